#!/bin/bash
# tests/bench/nova-evacuate-bench.sh -- fence -> instances evacuated on the real Nova lab:
# fence_paddock_compute + ocf:paddock:nova-evacuate vs Debian's fence_compute + fence_evacuate,
# for SIZES (default "1 10 50") instances, RUNS (default 3) runs each; prints a markdown table
# (tests/bench/nova_evacuate_bench.py says what is measured and how).
# Needs the installed packages (make install-deb) and the lab (started here if it is not up;
# left up if it was). Root. About 15 minutes with the defaults.
set -euo pipefail
REPO=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
LAB=$REPO/tests/lib/novalab.sh
[ "$(id -u)" = 0 ] || { echo "nova-evacuate-bench: run as root" >&2; exit 2; }
for f in /usr/sbin/fence_paddock_compute /usr/lib/ocf/resource.d/paddock/nova-evacuate /usr/sbin/fence_compute; do
    [ -x "$f" ] || { echo "nova-evacuate-bench: $f missing (make install-deb; tests/setup.sh)" >&2; exit 2; }
done
if ! "$LAB" env >/dev/null 2>&1; then
    "$LAB" up
    trap '"$LAB" down >/dev/null 2>&1' EXIT
fi
set -a; eval "$("$LAB" env)"; set +a
export NOVALAB_SH=$LAB
# the poller reads Nova's database, not its API (nova_evacuate_bench.py says why)
NOVALAB_DB_PASSWORD=$(sed -n 's/^DB_PASSWORD=//p' "${NOVALAB_DIR:-/var/tmp/paddock-novalab}/secrets")
export NOVALAB_DB_PASSWORD
echo "# $(date -u '+%F %H:%M UTC'), $(nproc) cores, nova $("$NOVALAB_PY" -c 'import nova.version as v; print(v.version_string())' 2>/dev/null || echo '?'), SIZES=${SIZES:-1 10 50} RUNS=${RUNS:-3}"
"$NOVALAB_PY" "$REPO/tests/bench/nova_evacuate_bench.py"
