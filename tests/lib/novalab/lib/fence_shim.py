"""Run one of Debian's fence agents (fence_compute, fence_evacuate) with the
lab venv's python, which has novaclient/keystoneauth/pexpect.

fence-agents 4.12.1 (Debian 12) still calls inspect.getargspec, gone since
Python 3.11: put the compatible function back, then run the script.
Usage: venv/bin/python fence_shim.py /usr/sbin/fence_compute [ARGS...]
With no ARGS the agent reads its options from stdin (key=value lines).
"""
import inspect
import runpy
import sys

if not hasattr(inspect, 'getargspec'):
    inspect.getargspec = inspect.getfullargspec
script = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name='__main__')
