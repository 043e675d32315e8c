#!/bin/bash
# tests/lab/run.sh -- the lab runner: the offline capacity check, then a fresh
# three-node lab, tests 1-7 on it, teardown (also on failure or Ctrl-C).
# Prints every PASS/FAIL line, then `N passed, N failed`; exit 0 = all passed.
#   env LAB_STACK=paddock|anchor (default paddock), TOKEN, BOOT_DELAY: see lab.sh
set -u
. "$(dirname "$(readlink -f "$0")")/lib.sh"
lab_lock || { echo "0 passed, 1 failed"; exit 1; }
out=$L/log-run; mkdir -p "$out"
results=$out/results; : > "$results"
started=$(now)

run_test() {      # run_test SCRIPT [ARG]: show its output, keep its PASS/FAIL lines
    local t=$1 s rc name=$1${2:+-$2}
    s=$(now)
    echo "=== $t ${2:-}"
    "$LAB_BIN/$t" "${@:2}" 2>&1 | grep -v -e DeprecationWarning -e 'from pipes import' | tee "$out/$name.out"
    rc=${PIPESTATUS[0]}
    grep -E '^(PASS|FAIL) ' "$out/$name.out" >> "$results"
    # a test that died without reporting a failure still fails
    if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$out/$name.out"; then echo "FAIL $name exited $rc" | tee -a "$results"; fi
    echo "--- $name: $(elapsed "$s" "$(now)") s"
}

cleanup() { "$LAB_BIN/lab.sh" down >/dev/null 2>&1; }
trap cleanup EXIT
trap 'exit 130' INT TERM

run_test t0-capacity-offline.sh
run_test t0-crm-examples-offline.sh
"$LAB_BIN/lab.sh" down >/dev/null 2>&1
if "$LAB_BIN/lab.sh" up > "$out/lab-up.out" 2>&1; then
    echo "PASS lab up: 3 nodes online" | tee -a "$results"
    run_test t1-configure.sh
    run_test t2-host-failure.sh link-down
    run_test t3-maintenance.sh
    run_test t2-host-failure.sh power-loss
    run_test t4-capacity.sh
    run_test t5-history.sh
    run_test t6-vm-failures.sh
    run_test t7-networks.sh
else
    cat "$out/lab-up.out"
    echo "FAIL lab up: 3 nodes online" | tee -a "$results"
fi
# keep the nodes' logs of this run next to the results
for n in $NODES; do
    mkdir -p "$out/$n"; cp -r "$L/nodes/$n/var/log/." "$out/$n/" 2>/dev/null
done
cp "$L"/log/*.console "$out/" 2>/dev/null
cleanup
passed=$(grep -c '^PASS ' "$results"); failed=$(grep -c '^FAIL ' "$results")
echo "lab run: $(elapsed "$started" "$(now)") s, logs in $out"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
