#!/bin/bash
# timeout: 420
# ocf:paddock:vmwatch under Pacemaker, with a real libvirtd and qemu: a guest whose monitor runs
# only every 120 s is recovered in place within seconds when its qemu is SIGKILLed, it is
# destroyed behind Pacemaker's back, it pauses on a disk I/O error, its kernel panics or its
# watchdog fires (the watcher reports it with crm_resource --fail); a procwatch service killed is
# restarted at once; a user's
# pause is shown as degraded and not recovered; Pacemaker's own restart, move-less disable and
# enable, and a guest reset leave the failcount at 0; a watcher killed is restarted by Pacemaker;
# a wedged libvirtd is published as the node attribute paddock-libvirt and makes the watcher's
# monitor degraded, and a guest killed meanwhile is reported once libvirtd answers again.
. "$(dirname "$(readlink -f "$0")")/../lib/system-test.sh"
. "$PADDOCK_REPO/tests/lib/tinyvm.sh"
HOSTS=$PADDOCK_REPO/tests/lib/libvirt-host.sh
VT=$(mktemp -d /tmp/paddock-vmwatch-sys.XXXXXX)
at_exit "rm -rf --one-file-system \"$VT\""
export PADDOCK_VIRT_DIR=$VT/virt
PORT=$TEST_PORT_BASE
URI=qemu+tcp://127.0.0.1:$PORT/system
RSC=vmw1
DOM=pvm-watch1
AGENT=/usr/lib/ocf/resource.d/paddock/vmwatch
LOG=/var/log/paddock/vmwatch.log

require_cmd pcs crm_mon crm_resource crm_attribute virsh libvirtd qemu-system-x86_64 tini paddock
[ -x "$AGENT" ] || fail "$AGENT not installed (make install)"

step "tiny guest and a libvirtd on 127.0.0.1:$PORT"
KDIR=$("$PADDOCK_REPO/tests/lib/build-tinyvm.sh") || fail "cannot build the tiny guest"
ACCEL=$(cat "$KDIR/accel" 2>/dev/null || echo qemu)
"$HOSTS" start pvm-watch "$PORT" || fail "cannot start libvirtd"
at_exit "\"$HOSTS\" stop pvm-watch"
mkdir -p "$VT/shared"
truncate -s 1M "$VT/shared/disk.raw"
TINYVM_DIR=$KDIR TINYVM_TYPE=$ACCEL tinyvm_xml "$DOM" "$VT/shared/serial.log" "$VT/shared/disk.raw" >"$VT/$DOM.xml"

step "the agent is known to pcs"
pcs_on resource describe ocf:paddock:vmwatch > "$TEST_TMP/describe.txt" || fail "pcs resource describe ocf:paddock:vmwatch failed"
grep -q hypervisor "$TEST_TMP/describe.txt" || fail "pcs does not show the hypervisor parameter"

step "the watcher as a clone, and $RSC with a monitor every 120 s"
on rm -f "$LOG"
pcs_on resource create vmwatch ocf:paddock:vmwatch op monitor interval=5s clone ||
    fail "pcs resource create vmwatch failed"
at_exit "\"$CLUSTER\" exec pcs resource delete vmwatch-clone --force >/dev/null 2>&1"
pcs_on resource create "$RSC" ocf:paddock:vm config="$VT/$DOM.xml" hypervisor="$URI" \
    op monitor interval=120s timeout=20s op stop timeout=30s || fail "pcs resource create $RSC failed"
at_exit "\"$CLUSTER\" exec pcs resource delete $RSC --force >/dev/null 2>&1"
started() { on crm_mon -1 | grep -Eq "$RSC\s+\(ocf:paddock:vm\):\s+Started paddock1"; }
watcher_started() { on crm_mon -1 | grep -Eq "Started: \[ paddock1 \]"; }
wait_until 60 started
wait_until 30 watcher_started
qemu_pid() { pgrep -f "qemu-system.*guest=$DOM," | head -n1; }
failcount() { on crm_failcount --query -r "$RSC" -N paddock1 2>/dev/null | sed -n 's/.*value=//p' | sed 's/INFINITY/1000000/;s/^$/0/'; }
connected() { on grep -q "libvirt at $URI: connected" "$LOG"; }
wait_until 20 connected
attr() { on attrd_updater --query --name paddock-libvirt --node paddock1 2>/dev/null | sed -n 's/.*value="\(.*\)"/\1/p'; }
attr_is() { [ "$(attr)" = "$1" ]; }
wait_until 10 attr_is ok

# Kill → a new qemu runs, long before the 120 s monitor; prints the seconds it took.
recovered_after() {
    local old=$1 t0=$2 p
    for _ in $(seq 1 300); do
        p=$(qemu_pid)
        if [ -n "$p" ] && [ "$p" != "$old" ] && virsh -q -c "$URI" domstate "$DOM" 2>/dev/null | grep -q running; then
            awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
            return 0
        fi
        sleep 0.1
    done
    return 1
}

step "qemu SIGKILLed: reported and restarted in place at once"
old=$(qemu_pid); [ -n "$old" ] || fail "no qemu process for $DOM"
t0=$(date +%s.%N); kill -9 "$old"
took=$(recovered_after "$old" "$t0") || fail "$DOM not running again within 30 s of the kill"
step "running again after $took s"
awk -v t="$took" 'BEGIN { exit !(t < 20) }' || fail "recovery took $took s"
on grep -q "$RSC ($DOM): .*reporting the failure to Pacemaker" "$LOG" || fail "the watcher's log does not tell the report"
decision_recorded "vmwatch $RSC report on [^:]+: $DOM .*failure reported" || fail "the report is not in the event journal (paddock history)"
# Pacemaker 2.1.5 counts one crm_resource --fail as 1 or 2 (a race in its controller)
fc1=$(failcount)
[ "$fc1" -ge 1 ] || fail "failcount is '$fc1' after a reported failure"

step "virsh destroy behind Pacemaker's back: reported and restarted"
wait_until 30 started
old=$(qemu_pid); t0=$(date +%s.%N)
virsh -q -c "$URI" destroy "$DOM" >/dev/null || fail "virsh destroy failed"
took=$(recovered_after "$old" "$t0") || fail "$DOM not running again within 30 s of the destroy"
step "running again after $took s"
[ "$(failcount)" -gt "$fc1" ] || fail "failcount is '$(failcount)', not above $fc1"
[ "$(on grep -c "reporting the failure" "$LOG")" = 2 ] || fail "not exactly two reports in the watcher's log"

step "a guest paused on a disk I/O error (its disk on a filesystem that fills up): reported, restarted"
FULL=$VT/full; mkdir -p "$FULL"
"$HOSTS" nsenter pvm-watch sh -c "mount -t tmpfs -o size=256k tmpfs $FULL && truncate -s 8M $FULL/disk.raw" ||
    fail "cannot mount the small filesystem in libvirtd's namespace"
TINYVM_DIR=$KDIR TINYVM_TYPE=$ACCEL tinyvm_xml pvm-io "$VT/shared/serial-io.log" "$FULL/disk.raw" >"$VT/pvm-io.xml"
pcs_on resource create vmio ocf:paddock:vm config="$VT/pvm-io.xml" hypervisor="$URI" \
    op monitor interval=120s timeout=20s op stop timeout=30s || fail "pcs resource create vmio failed"
at_exit "\"$CLUSTER\" exec pcs resource delete vmio --force >/dev/null 2>&1"
io_running() { virsh -q -c "$URI" domstate pvm-io 2>/dev/null | grep -q '^running'; }
wait_until 60 io_running
io_old=$(pgrep -f "qemu-system.*guest=pvm-io," | head -n1)
"$HOSTS" nsenter pvm-watch sh -c "dd if=/dev/zero of=$FULL/fill bs=4k 2>/dev/null; true"
io_reported() { on grep -q "vmio (pvm-io): paused on .*I/O error" "$LOG"; }
wait_until 30 io_reported || fail "no I/O error pause reported within 30 s of the disk filling up"
t0=$(date +%s.%N)
"$HOSTS" nsenter pvm-watch rm -f "$FULL/fill"      # room again, for the restarted guest
io_back() { local p; p=$(pgrep -f "qemu-system.*guest=pvm-io," | head -n1); [ -n "$p" ] && [ "$p" != "$io_old" ] && io_running; }
wait_until 30 io_back || fail "pvm-io not running again after its I/O error"
step "running again $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s after the report"
on grep "vmio (pvm-io)" "$LOG" | head -n 3
pcs_on resource delete vmio --force >/dev/null 2>&1
"$HOSTS" nsenter pvm-watch umount "$FULL" 2>/dev/null

# A guest that fails from inside, from the XML on stdin: RSC DOM REPORT (what the watcher's log
# says). Reported within 60 s, booted again (its serial log's second "up") within 30 s after.
guest_failure_case() {
    local rsc=$1 dom=$2 report=$3 serial=$VT/shared/serial-$2.log t0
    cat >"$VT/$dom.xml"
    pcs_on resource create "$rsc" ocf:paddock:vm config="$VT/$dom.xml" hypervisor="$URI" \
        op monitor interval=120s timeout=20s op stop timeout=30s || fail "pcs resource create $rsc failed"
    at_exit "\"$CLUSTER\" exec pcs resource delete $rsc --force >/dev/null 2>&1"
    reported() { on grep -q "$rsc ($dom): $report: reporting" "$LOG"; }
    wait_until 60 reported || { tail -5 "$serial"; fail "$rsc: no '$report' reported within 60 s"; }
    t0=$(date +%s.%N)
    booted_again() { [ "$(grep -c "tinyvm: up" "$serial")" -ge 2 ]; }
    wait_until 30 booted_again || fail "$rsc was not started again after '$report'"
    step "booting again $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s after the report"
    pcs_on resource delete "$rsc" --force >/dev/null 2>&1
}

step "a guest kernel panic (pvpanic): reported, restarted"
guest_failure_case vmpanic pvm-panic "guest kernel panicked" < <(TINYVM_PANIC_AFTER=4 \
    TINYVM_DIR=$KDIR TINYVM_TYPE=$ACCEL tinyvm_xml pvm-panic "$VT/shared/serial-pvm-panic.log")

step "the guest's watchdog fires (an i6300esb it arms and never feeds): reported, restarted"
guest_failure_case vmwd pvm-wd "its watchdog fired (action pause)" < <(TINYVM_WATCHDOG_AFTER=2 \
    TINYVM_WATCHDOG_ACTION=pause TINYVM_DIR=$KDIR TINYVM_TYPE=$ACCEL tinyvm_xml pvm-wd "$VT/shared/serial-pvm-wd.log")

step "clean up the failcount; Pacemaker's own actions are not failures"
pcs_on resource cleanup "$RSC" >/dev/null || fail "pcs resource cleanup failed"
wait_until 30 started
zero() { [ "$(failcount)" = 0 ]; }
wait_until 10 zero
pcs_on resource restart "$RSC" >/dev/null 2>&1 || fail "pcs resource restart failed"
wait_until 60 started
pcs_on resource disable "$RSC" || fail "pcs resource disable failed"
stopped() { on crm_resource --resource "$RSC" --locate 2>&1 | grep -q "NOT running"; }
wait_until 40 stopped
pcs_on resource enable "$RSC" || fail "pcs resource enable failed"
wait_until 60 started
virsh -q -c "$URI" reset "$DOM" >/dev/null || fail "virsh reset failed"
sleep 3
[ "$(failcount)" = 0 ] || fail "failcount after restart, disable/enable and reset: '$(failcount)'"
on grep -q "$RSC ($DOM): .*, while Pacemaker is stopping it: not a failure" "$LOG" ||
    fail "the watcher's log does not show the stop it ignored"

step "a user's pause: degraded, not recovered"
virsh -q -c "$URI" suspend "$DOM" >/dev/null || fail "virsh suspend failed"
sleep 3
[ "$(failcount)" = 0 ] || fail "a user's pause was reported as a failure"
out=$(on crm_resource --force-check -r "$RSC" 2>&1); rc=$?
echo "$out" | grep -q "paused by user since" || fail "monitor does not say the guest is paused by user (rc $rc): $out"
virsh -q -c "$URI" resume "$DOM" >/dev/null || fail "virsh resume failed"

step "a procwatch service SIGKILLed: reported and restarted at once (its monitor runs every 120 s)"
on mkdir -p /var/tmp/paddock-svc
pcs_on resource create svc1 ocf:paddock:procwatch command="/bin/sleep 100000" \
    logfile=/var/tmp/paddock-svc/svc1.log op monitor interval=120s timeout=20s ||
    fail "pcs resource create svc1 failed"
at_exit "\"$CLUSTER\" exec pcs resource delete svc1 --force >/dev/null 2>&1"
svc_pid() { on pgrep -f "^/bin/sleep 100000" | head -n1; }
svc_started() { on crm_mon -1 | grep -Eq "svc1\s+\(ocf:paddock:procwatch\):\s+Started paddock1"; }
wait_until 30 svc_started
old=$(svc_pid); [ -n "$old" ] || fail "no service process"
t0=$(date +%s.%N)
on kill -9 "$old"
svc_back() { local p; p=$(svc_pid); [ -n "$p" ] && [ "$p" != "$old" ]; }
wait_until 20 svc_back
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
step "the service runs again after $took s"
awk -v t="$took" 'BEGIN { exit !(t < 10) }' || fail "the service took $took s to come back"
on grep -q "svc1: its process $old is gone: reporting the failure" "$LOG" || fail "the watcher's log does not tell the service's report"
pcs_on resource disable svc1 >/dev/null
svc_stopped() { [ -z "$(svc_pid)" ]; }
wait_until 30 svc_stopped
on grep -c "svc1: its process" "$LOG" | grep -qx 1 || fail "the service's stop was reported as a failure"

step "the watcher SIGKILLed: Pacemaker starts it again"
wpid=$(on pgrep -f __vmwatch_daemon | head -n1)
[ -n "$wpid" ] || fail "no watcher pid file"
on kill -9 "$wpid"
new_watcher() { local p; p=$(on pgrep -f __vmwatch_daemon | head -n1); [ -n "$p" ] && [ "$p" != "$wpid" ] && on kill -0 "$p"; }
wait_until 40 new_watcher
wait_until 30 watcher_started
wait_until 20 connected

step "libvirtd wedged (SIGSTOP): published, degraded; a guest killed meanwhile is reported after"
lpid=$("$HOSTS" pid pvm-watch)
pcs_on resource cleanup "$RSC" >/dev/null
wait_until 10 zero
kill -STOP "$lpid"
at_exit "kill -CONT $lpid 2>/dev/null"
down() { attr | grep -q "^down"; }
wait_until 40 down
on crm_resource --force-check -r vmwatch-clone 2>&1 | grep -q "not answering since" ||
    fail "the watcher's monitor does not report libvirt not answering"
old=$(qemu_pid); t0=$(date +%s.%N)
kill -9 "$old"
sleep 1
kill -CONT "$lpid"
took=$(recovered_after "$old" "$t0") || fail "$DOM not running again within 30 s of libvirtd's return"
step "running again $took s after the kill (libvirtd was stopped for 1 s of it)"
wait_until 20 attr_is ok
[ "$(failcount)" -ge 1 ] || fail "failcount is '$(failcount)' after the guest died under a wedged libvirtd"
step "pass"
