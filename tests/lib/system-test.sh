# tests/lib/system-test.sh -- helpers for tests/system/NN-*.sh (source it).
#   on CMD...              run CMD inside the test cluster (crm_mon, pcs, stonith_admin...)
#   step MSG               log what the test is doing
#   fail MSG               print MSG and exit 1
#   wait_until SECS CMD... poll CMD (every 0.2 s) until it succeeds, or fail after SECS
#   at_exit CMD...         run CMD (a string, eval'd) when the test exits, last registered first
#   require_cmd NAME...    fail (not skip) if a tool is missing
set -u
: "${PADDOCK_REPO:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${CLUSTER:=$PADDOCK_REPO/tests/lib/cluster.sh}"
: "${TEST_TMP:=$(mktemp -d /tmp/paddock-systest.XXXXXX)}"
: "${TEST_PORT_BASE:=20000}"
export PADDOCK_REPO CLUSTER TEST_TMP TEST_PORT_BASE

_T0=$(date +%s.%N)
ts() { awk -v a="$_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%6.2f", b - a }'; }
step() { echo "[$(ts)] $*"; }
fail() { echo "[$(ts)] FAIL: $*" >&2; exit 1; }
on() { "$CLUSTER" exec "$@"; }
# pcs prints python DeprecationWarnings of the anchor agents on stderr; keep the rest
pcs_on() { on pcs "$@" 2> >(grep -v -e DeprecationWarning -e 'from pipes import' >&2); }

wait_until() {
    local secs=$1; shift
    local deadline; deadline=$(awk -v a="$(date +%s.%N)" -v s="$secs" 'BEGIN { printf "%.3f", a + s }')
    while :; do
        "$@" && return 0
        awk -v d="$deadline" -v n="$(date +%s.%N)" 'BEGIN { exit !(n > d) }' && break
        sleep 0.2
    done
    fail "not true after ${secs}s: $*"
}

_AT_EXIT=()
# An agent's own decision in the event journal (the package's directory): paddock history shows it.
decision_recorded() { on paddock history --since 10m 2>/dev/null | grep -Eq -- "$1"; }
at_exit() { _AT_EXIT=("$*" "${_AT_EXIT[@]}"); }
_run_at_exit() {
    local rc=$? c
    for c in "${_AT_EXIT[@]}"; do eval "$c" || true; done
    exit $rc
}
trap _run_at_exit EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

require_cmd() {
    local c
    for c in "$@"; do command -v "$c" >/dev/null || fail "$c not found (run tests/setup.sh / make install)"; done
}
