"""gunicorn entry point for Keystone (same argv problem as nova_wsgi.py);
its config comes from OS_KEYSTONE_CONFIG_DIR (set by novalab.sh)."""
import sys

_saved_argv = sys.argv
sys.argv = [_saved_argv[0]]
try:
    from keystone.wsgi.api import application  # noqa: F401
finally:
    sys.argv = _saved_argv
