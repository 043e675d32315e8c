#!/bin/bash
# Soak: with the watcher on, OPS (default 100) operations that are not failures, in a random
# order, on a real guest under Pacemaker (single-node cluster of tests/lib/cluster.sh, test
# libvirtd): pcs resource restart, disable + enable, a reboot (virsh reboot), a hard reset
# (virsh reset), a user's pause + resume, a cleanup. At the end: zero failures reported by the
# watcher, failcount 0, the guest running. Live migration needs two nodes: the three-node lab.
#   tests/bench/vmwatch-soak.sh [OPS] [SEED]   (root; after tests/setup.sh and make install)
set -uo pipefail
REPO=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
OPS=${1:-100}; RANDOM=${2:-12}
PORT=${BENCH_PORT:-19891}
LOG=/var/log/paddock/vmwatch.log
DOM=vws1
. "$REPO/tests/lib/cluster-guest.sh"
cluster_guest vwsoak "$PORT" "$DOM"
on rm -f "$LOG"
settled() { on crm_resource --wait --timeout=120 >/dev/null 2>&1; }
running() { virsh -q -c "$URI" domstate "$DOM" 2>/dev/null | grep -q '^running'; }
wait_for() { local end=$(( $(date +%s) + $1 )); shift; while ! "$@"; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.1; done; }
on pcs resource create vmwatch ocf:paddock:vmwatch clone >/dev/null 2>&1
on pcs resource create vws ocf:paddock:vm config="$W/$DOM.xml" hypervisor="$URI" \
    op monitor interval=10s timeout=30s op stop timeout=30s >/dev/null 2>&1
settled; wait_for 60 running || { echo "the guest did not start"; exit 1; }

declare -A done_ops
t0=$(date +%s)
for i in $(seq 1 "$OPS"); do
    case $((RANDOM % 6)) in
        0) op=restart; on pcs resource restart vws >/dev/null 2>&1 ;;
        1) op=disable-enable; on pcs resource disable vws --wait=60 >/dev/null 2>&1
           on pcs resource enable vws --wait=60 >/dev/null 2>&1 ;;
        2) op=reboot; virsh -q -c "$URI" reboot "$DOM" >/dev/null 2>&1; sleep 1 ;;
        3) op=reset; virsh -q -c "$URI" reset "$DOM" >/dev/null 2>&1; sleep 1 ;;
        4) op=pause-resume; virsh -q -c "$URI" suspend "$DOM" >/dev/null 2>&1; sleep 1
           virsh -q -c "$URI" resume "$DOM" >/dev/null 2>&1 ;;
        5) op=cleanup; on crm_resource --cleanup -r vws >/dev/null 2>&1 ;;
    esac
    done_ops[$op]=$(( ${done_ops[$op]:-0} + 1 ))
    settled; wait_for 60 running || { echo "op $i ($op): the guest is not running"; break; }
done
took=$(( $(date +%s) - t0 ))
sleep 2
reports=$(on grep -c "reporting the failure" "$LOG")
fails=$(on crm_failcount --query -r vws -N paddock1 2>/dev/null | sed -n 's/.*value=//p')
ignored=$(on grep -c "not a failure" "$LOG")
state=$(virsh -q -c "$URI" domstate "$DOM" 2>/dev/null)
echo
echo "| soak ($OPS operations, seed ${2:-12}, $took s) | value |"
echo "|---|---|"
for k in "${!done_ops[@]}"; do echo "| $k | ${done_ops[$k]} |"; done | sort
echo "| events seen during Pacemaker's own actions (logged, not reported) | $ignored |"
echo "| failures reported by the watcher | $reports |"
echo "| failcount | ${fails:-0} |"
echo "| guest at the end | $state |"
[ "$reports" = 0 ] && [ "${fails:-0}" = 0 ] && [ "$state" = running ]
