#!/bin/bash
# timeout: 180
# ocf:paddock:procwatch under Pacemaker: a service (python3 http.server) is started, probed over
# HTTP and, when it dies (SIGKILL) or hangs (SIGSTOP), restarted by Pacemaker with a new pid,
# a failcount and the agent's exit reason in crm_mon.
. "$(dirname "$(readlink -f "$0")")/../lib/system-test.sh"
AGENT=/usr/lib/ocf/resource.d/paddock/procwatch
PORT=$TEST_PORT_BASE
RSC=pw1
PY=/usr/bin/python3
STATE=/run/resource-agents/procwatch-$RSC.state   # HA_RSCTMP inside the cluster's mount namespace

require_cmd pcs crm_mon crm_resource crm_failcount xmllint
[ -x "$PY" ] || fail "$PY not found (python3)"
[ -x "$AGENT" ] || fail "$AGENT not installed (make install)"

mkdir -p "$TEST_TMP/www" && echo "paddock" > "$TEST_TMP/www/index.html"
# pid of the service as the cluster sees it (its own PID namespace)
service_pid() { on sh -c "sed -n 's/^pid=//p' $STATE" 2>/dev/null; }
http_ok() { "$PY" -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:$PORT/index.html', timeout=2).status != 200)" 2>/dev/null; }
started() { on crm_mon -1 | grep -Eq "$RSC\s+\(ocf:paddock:procwatch\):\s+Started paddock1"; }
failcount() { on crm_failcount --query --resource "$RSC" --node paddock1 2>/dev/null | sed -n 's/.*value=\([0-9]*\).*/\1/p'; }
new_pid_serving() { local p; p=$(service_pid); [ -n "$p" ] && [ "$p" != "$1" ] && http_ok; }
at_exit "on pcs resource delete $RSC --force >/dev/null 2>&1; p=\$(service_pid); [ -n \"\$p\" ] && on kill -9 \$p 2>/dev/null"

step "agent known to Pacemaker and pcs, OCF 1.1 meta-data"
on crm_resource --show-metadata ocf:paddock:procwatch > "$TEST_TMP/meta.xml" || fail "crm_resource --show-metadata failed"
grep -q '<version>1.1</version>' "$TEST_TMP/meta.xml" || fail "Pacemaker did not get OCF 1.1 meta-data"
xmllint --noout --relaxng /usr/share/pcs/data/ocf-1.1.rng "$TEST_TMP/meta.xml" || fail "meta-data invalid for pcs"
pcs_on resource describe ocf:paddock:procwatch > "$TEST_TMP/describe.txt" || fail "pcs resource describe failed"
grep -q 'probe_status' "$TEST_TMP/describe.txt" || fail "pcs resource describe does not list probe_status"

step "pcs resource create $RSC (http.server on 127.0.0.1:$PORT, HTTP probe)"
pcs_on resource create "$RSC" ocf:paddock:procwatch \
    command="$PY -m http.server $PORT --bind 127.0.0.1 --directory $TEST_TMP/www" \
    probe="http://127.0.0.1:$PORT/index.html" logfile="$TEST_TMP/$RSC.log" \
    op monitor interval=2s timeout=20s || fail "pcs resource create failed"
wait_until 40 started
wait_until 10 http_ok
pid1=$(service_pid)
[ -n "$pid1" ] || fail "no recorded pid"
step "running as pid $pid1 (cluster namespace); failcount $(failcount)"

step "SIGKILL the service: Pacemaker's monitor notices, procwatch restarts it"
on kill -9 "$pid1" || fail "cannot kill $pid1"
wait_until 30 new_pid_serving "$pid1"
pid2=$(service_pid)
wait_until 10 started
fc=$(failcount); [ "${fc:-0}" -ge 1 ] || fail "failcount is '${fc}', expected >= 1"
on crm_mon -1 --failcounts | grep -q "$RSC.*fail-count=" || fail "crm_mon does not show the failcount"
step "restarted as pid $pid2 (was $pid1), failcount $fc"

step "SIGSTOP the service: monitor reports it stopped, Pacemaker restarts it"
on kill -STOP "$pid2" || fail "cannot stop $pid2"
wait_until 30 new_pid_serving "$pid2"
pid3=$(service_pid)
on crm_mon -1 | grep -q "process $pid2 is stopped" || fail "crm_mon does not show the exit reason 'process $pid2 is stopped'"
fc2=$(failcount); [ "${fc2:-0}" -gt "$fc" ] || fail "failcount did not grow ($fc -> $fc2)"
step "restarted as pid $pid3, failcount $fc2; exit reason shown by crm_mon"

step "pcs resource disable: the service is stopped"
pcs_on resource disable "$RSC" --wait=30 || fail "disable failed"
if http_ok; then fail "service still answers after disable"; fi
on sh -c "kill -0 $pid3 2>/dev/null" && fail "process $pid3 survived the stop"
step "stopped"
