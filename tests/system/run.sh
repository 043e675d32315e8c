#!/bin/bash
# tests/system/run.sh [FILTER...] -- scenario tests against a real single-node cluster.
#
# Brings the cluster up once (tests/lib/cluster.sh), runs every tests/system/NN-*.sh in
# order (only those whose name contains one of the FILTER words, if given), resets the
# cluster configuration between tests, tears the cluster down at the end (also on failure
# or interrupt; KEEP=1 leaves it up). One line per test: `PASS name (Ns)` / `FAIL name (Ns)`
# (a failing test's output and the cluster's log tails follow), last line `N passed, N failed`.
#
# A test is an executable that exits 0 on pass; a listener it leaves on its ports is reported. Its time limit is TEST_TIMEOUT (default
# 300 s) or a `# timeout: N` line in its first 20 lines. It gets in its environment:
#   PADDOCK_REPO  repository root        CLUSTER   path of tests/lib/cluster.sh
#   TEST_TMP      a fresh scratch dir    TEST_PORT_BASE  first of 20 free-for-this-test ports
# and should source tests/lib/system-test.sh for helpers.
set -u
REPO=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
CLUSTER=$REPO/tests/lib/cluster.sh
WORK=${PADDOCK_TEST_DIR:-/var/tmp/paddock-test}
LOGS=$WORK/system-logs
mkdir -p "$WORK" "$LOGS"

# One system-test run per machine at a time: the cluster uses fixed ports and paths.
exec 9>>"$WORK/system.lock"
if ! flock -n 9; then
    echo "another tests/system/run.sh holds $WORK/system.lock; waiting (at most 30 min)..."
    flock -w 1800 9 || { echo "could not get $WORK/system.lock"; echo "0 passed, 1 failed"; exit 1; }
fi
export PADDOCK_CLUSTER_LOCKED=1

tests=()
for t in "$REPO"/tests/system/[0-9][0-9]-*.sh; do
    [ -e "$t" ] || continue
    name=$(basename "$t" .sh)
    if [ $# -gt 0 ]; then
        keep=0; for f in "$@"; do [[ $name == *"$f"* ]] && keep=1; done
        [ $keep = 1 ] || continue
    fi
    tests+=("$t")
done
if [ ${#tests[@]} -eq 0 ]; then
    echo "no system test matches: ${*:-<all>}"; echo "0 passed, 1 failed"; exit 1
fi

teardown() {
    [ "${KEEP:-0}" = 1 ] && { echo "KEEP=1: cluster left up ($CLUSTER exec crm_mon -1; $CLUSTER down)"; return; }
    "$CLUSTER" down >/dev/null 2>&1 || "$CLUSTER" down
}
trap 'teardown' EXIT
trap 'echo "interrupted"; exit 130' INT TERM

# Configuration every test starts from (written again after each test).
reset_cluster() {
    "$CLUSTER" exec cibadmin --replace --scope configuration --xml-text \
        '<configuration><crm_config><cluster_property_set id="cib-bootstrap-options">
           <nvpair id="cib-bootstrap-options-dc-deadtime" name="dc-deadtime" value="1s"/>
           <nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/>
         </cluster_property_set></crm_config><nodes/><resources/><constraints/></configuration>' &&
    "$CLUSTER" exec crm_resource --wait --timeout=120 &&
    "$CLUSTER" exec stonith_admin --cleanup --history '*' >/dev/null
}

"$CLUSTER" down >/dev/null 2>&1     # leftovers of an interrupted run
echo "== cluster up"
if ! "$CLUSTER" up; then
    for t in "${tests[@]}"; do echo "FAIL $(basename "$t" .sh) (0s) -- cluster did not come up"; done
    trap - EXIT; teardown
    echo "0 passed, ${#tests[@]} failed"
    exit 1
fi

passed=0 failed=0 port=20000
for t in "${tests[@]}"; do
    name=$(basename "$t" .sh)
    limit=$(sed -n '1,20s/^# timeout: *\([0-9][0-9]*\).*/\1/p' "$t" | head -1)
    limit=${limit:-${TEST_TIMEOUT:-300}}
    tmp=$WORK/tmp/$name; rm -rf --one-file-system "$tmp"; mkdir -p "$tmp"
    log=$LOGS/$name.log
    t0=$(date +%s)
    if [ ! -x "$t" ]; then
        echo "$t is not executable" > "$log"; rc=126
    else
        PADDOCK_REPO=$REPO CLUSTER=$CLUSTER TEST_TMP=$tmp TEST_PORT_BASE=$port \
            timeout --kill-after=10 "$limit" "$t" </dev/null >"$log" 2>&1 9>&-
        rc=$?
    fi
    secs=$(( $(date +%s) - t0 ))
    port=$((port + 20))
    if [ $rc = 0 ]; then
        echo "PASS $name (${secs}s)"; passed=$((passed + 1))
    else
        why="exit $rc"; [ $rc = 124 ] && why="timed out after ${limit}s"
        echo "FAIL $name (${secs}s) -- $why; output ($log):"
        sed 's/^/    | /' "$log" | tail -n 200
        echo "    cluster state and logs:"
        { "$CLUSTER" exec crm_mon -1 --inactive; LINES_OF_LOG=20 "$CLUSTER" logs; } 2>&1 | sed 's/^/    | /'
        failed=$((failed + 1))
    fi
    # a test must stop the servers it started (on its own ports)
    leaked=$(ss -Hlntup "( sport >= :$((port - 20)) and sport <= :$((port - 1)) )" 2>/dev/null |
        awk '{ print $1, $5, $7 }')
    [ -z "$leaked" ] || echo "     WARNING: $name left listeners behind: $(echo $leaked)"
    if ! reset_cluster >"$LOGS/$name.reset.log" 2>&1; then
        echo "     (cluster reset after $name failed, restarting the cluster)"
        "$CLUSTER" down >/dev/null 2>&1; "$CLUSTER" up >/dev/null 2>&1 || echo "     (cluster restart failed)"
    fi
done
trap - EXIT
teardown
echo "$passed passed, $failed failed"
[ $failed = 0 ]
