#!/bin/bash
# A hand-started libvirtd ("host") for tests, without systemd, in a private mount
# namespace, so that several can run on one machine, each with its own /run,
# /var/lib/libvirt, /var/log/libvirt, /etc/libvirt and host UUID.
#
#   libvirt-host.sh start NAME PORT   libvirtd listening on tcp 127.0.0.1:PORT (no auth)
#   libvirt-host.sh stop NAME         destroy its domains, kill qemu + libvirtd
#   libvirt-host.sh uri NAME          qemu+tcp://127.0.0.1:PORT/system
#   libvirt-host.sh pid NAME          libvirtd's pid (tests SIGSTOP it)
#   libvirt-host.sh nsenter NAME CMD  run CMD in the host's mount namespace
#
# State lives under $PADDOCK_VIRT_DIR (default /tmp/paddock-virt): not under /var,
# which each host overlays. qemu migration listens on 127.0.X.Y (any 127/8 address
# but 127.0.0.1, which libvirt refuses as "the local machine"), ports PORT+10..+19.
set -euo pipefail
BASE=${PADDOCK_VIRT_DIR:-/tmp/paddock-virt}
cmd=${1:-}; name=${2:-}
[ -n "$cmd" ] && [ -n "$name" ] || { echo "usage: $0 start NAME PORT | stop|uri|pid NAME | nsenter NAME CMD..." >&2; exit 2; }
H=$BASE/hosts/$name
PIDF=$H/libvirtd.pid
SOCK=$H/run/libvirt/libvirt-sock

die() { echo "libvirt-host $name: $*" >&2; exit 1; }
. "$(dirname "$(readlink -f "$0")")/libvirt-conf.sh"

write_conf() {
  local port=$1 migip=$2 uuid=$3
  mkdir -p "$H"/{etc,run,ov/up,ov/wk,lib,log,cache}
  libvirtd_conf 127.0.0.1 "$uuid" "$port" > "$H/etc/libvirtd.conf"
  qemu_conf "$migip" $((port + 10)) $((port + 19)) > "$H/etc/qemu.conf"
  echo "$port" > "$H/port"
}

running() { [ -f "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null; }
# $PIDF holds tini's pid; libvirtd is its child.
daemon_pid() { pgrep -P "$(cat "$PIDF")" -x libvirtd | head -n1; }

start() {
  local port=${3:-}
  [ -n "$port" ] || die "start needs a PORT"
  if running; then echo "libvirt-host $name: already running (pid $(cat "$PIDF"))"; return 0; fi
  for tool in libvirtd tini unshare virsh; do command -v $tool >/dev/null || die "$tool not installed (run tests/setup.sh)"; done
  local uuid migip
  uuid=$(echo -n "paddock-$name" | md5sum | sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/\1-\2-\3-\4-\5/')
  migip=127.0.$(( (port / 256) % 256 )).$(( port % 256 ))
  [ "$migip" = 127.0.0.1 ] && migip=127.0.0.2
  write_conf "$port" "$migip" "$uuid"
  rm -f "$SOCK"
  setsid unshare --mount --propagation private -- bash -c '
    set -e; H=$1
    mount --bind "$H/etc" /etc/libvirt
    # libvirt resolves its built-in qemu user/group before reading qemu.conf
    cp /etc/passwd "$H/passwd"; cp /etc/group "$H/group"
    getent passwd libvirt-qemu >/dev/null || echo "libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin" >> "$H/passwd"
    getent group libvirt-qemu >/dev/null || echo "libvirt-qemu:x:64055:" >> "$H/group"
    getent group kvm >/dev/null || echo "kvm:x:64056:" >> "$H/group"
    mount --bind "$H/passwd" /etc/passwd; mount --bind "$H/group" /etc/group
    mount --bind "$H/run" /run
    mount -t overlay overlay -o lowerdir=/var,upperdir="$H/ov/up",workdir="$H/ov/wk" /var
    for d in lib log cache; do mkdir -p /var/$d/libvirt; mount --bind "$H/$d" /var/$d/libvirt; done
    mkdir -p /var/log/libvirt/qemu /var/lib/libvirt/qemu /run/libvirt
    # tini -s reaps qemu promptly (libvirt waits for the dead qemu pid to vanish)
    exec tini -s -- /usr/sbin/libvirtd --listen -f /etc/libvirt/libvirtd.conf -p /run/libvirtd.pid
  ' _ "$H" > "$H/libvirtd.stdout" 2>&1 < /dev/null &
  echo $! > "$PIDF"
  for _ in $(seq 1 300); do
    virsh -q -c "qemu:///system?socket=$SOCK" version >/dev/null 2>&1 && break
    running || { cat "$H/libvirtd.stdout" >&2; tail -20 "$H/log/libvirtd.log" >&2 2>/dev/null; die "libvirtd died"; }
    sleep 0.1
  done
  virsh -q -c "qemu+tcp://127.0.0.1:$port/system" version >/dev/null 2>&1 || die "libvirtd does not answer on 127.0.0.1:$port"
  echo "libvirt-host $name: pid $(cat "$PIDF"), qemu+tcp://127.0.0.1:$port/system, migration on $migip"
}

stop() {
  [ -f "$PIDF" ] || { echo "libvirt-host $name: not started"; return 0; }
  local pid q f
  pid=$(cat "$PIDF")
  # a test may have left it stopped
  kill -CONT "$pid" 2>/dev/null || true; q=$(daemon_pid 2>/dev/null || true); [ -n "$q" ] && kill -CONT "$q" 2>/dev/null || true
  if kill -0 "$pid" 2>/dev/null; then
    for d in $(timeout 10 virsh -q -c "qemu:///system?socket=$SOCK" list --name 2>/dev/null); do
      timeout 10 virsh -q -c "qemu:///system?socket=$SOCK" destroy "$d" >/dev/null 2>&1 || true
    done
  fi
  for f in "$H"/run/libvirt/qemu/*.pid; do
    [ -f "$f" ] || continue; q=$(cat "$f")
    grep -q qemu-system "/proc/$q/cmdline" 2>/dev/null && kill -9 "$q" 2>/dev/null || true
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDF"
  echo "libvirt-host $name: stopped"
}

case $cmd in
  start) start "$@" ;;
  stop) stop ;;
  uri) echo "qemu+tcp://127.0.0.1:$(cat "$H/port")/system" ;;
  pid) running || die "not running"; daemon_pid ;;
  nsenter) shift 2; running || die "not running"; exec nsenter -t "$(cat "$PIDF")" -m --wd="$PWD" -- "$@" ;;
  *) echo "usage: $0 start NAME PORT | stop|uri|pid NAME | nsenter NAME CMD..." >&2; exit 2 ;;
esac
