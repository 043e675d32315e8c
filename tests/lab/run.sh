#!/bin/bash
# tests/lab/run.sh -- the lab runner: the offline capacity check, then a fresh
# three-node lab, tests 1-5 on it, teardown (also on failure or Ctrl-C).
# Prints every PASS/FAIL line, then `N passed, N failed`; exit 0 = all passed.
#   env LAB_STACK=paddock|anchor (default paddock), TOKEN, BOOT_DELAY: see lab.sh
set -u
. "$(dirname "$(readlink -f "$0")")/lib.sh"
out=$L/log-run; mkdir -p "$out"
results=$out/results; : > "$results"
started=$(now)

run_test() {      # run_test SCRIPT: show its output, keep its PASS/FAIL lines
    local t=$1 s rc
    s=$(now)
    echo "=== $t"
    "$LAB_BIN/$t" 2>&1 | grep -v -e DeprecationWarning -e 'from pipes import' | tee "$out/$t.out"
    rc=${PIPESTATUS[0]}
    grep -E '^(PASS|FAIL) ' "$out/$t.out" >> "$results"
    # a test that died without reporting a failure still fails
    if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$out/$t.out"; then echo "FAIL $t exited $rc" | tee -a "$results"; fi
    echo "--- $t: $(elapsed "$s" "$(now)") s"
}

cleanup() { "$LAB_BIN/lab.sh" down >/dev/null 2>&1; }
trap cleanup EXIT
trap 'exit 130' INT TERM

run_test t0-capacity-offline.sh
"$LAB_BIN/lab.sh" down >/dev/null 2>&1
if "$LAB_BIN/lab.sh" up > "$out/lab-up.out" 2>&1; then
    echo "PASS lab up: 3 nodes online" | tee -a "$results"
    for t in t1-configure.sh t2-host-failure.sh t3-maintenance.sh t4-capacity.sh t5-history.sh; do
        run_test "$t"
    done
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
