#!/bin/bash
# The Nova lab (tests/lib/novalab.sh) for the OpenStack agents' tests and benchmarks:
# rabbitmq-server + mariadb (never started by apt) and a venv with nova, placement and
# keystone.  Idempotent (a no-op when everything is there), no stdin.
set -euo pipefail
exec "$(dirname "$(readlink -f "$0")")/../lib/novalab.sh" install </dev/null
