"""gunicorn entry point for nova-api.

nova's WSGI app parses sys.argv with oslo.config when imported, and would
reject gunicorn's own arguments: hide them during the import.  The config
files come from OS_NOVA_CONFIG_DIR / OS_NOVA_CONFIG_FILES (set by novalab.sh).
"""
import sys

_saved_argv = sys.argv
sys.argv = [_saved_argv[0]]
try:
    from nova.wsgi.osapi_compute import application  # noqa: F401
finally:
    sys.argv = _saved_argv
