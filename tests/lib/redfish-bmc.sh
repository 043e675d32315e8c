#!/bin/bash
# A Redfish BMC for tests: sushy-emulator (sushy-tools, fake driver) with several systems and
# HTTP basic auth, listening on one address and port, over HTTP or HTTPS.
#
#   redfish-bmc.sh start DIR PORT [http|https|selfsigned] [LISTEN_IP]
#   redfish-bmc.sh stop DIR
#
# DIR holds everything of this instance (config, state, certificates, log, pid); it is created.
#   https      : server certificate (CA:FALSE, SAN 127.0.0.1 ::1 localhost) signed by a test CA,
#                DIR/ca.pem is the CA to trust (ssl_ca_file).
#   selfsigned : a self-signed certificate with CA:TRUE, as many BMCs ship (DIR/server.pem).
# User (bcrypt htpasswd, the only format sushy-tools accepts): admin, password $REDFISH_BMC_PASSWORD
# (default "password"), passed to python in the environment, not on its argv. bcrypt cost
# REDFISH_BMC_BCRYPT_COST (default 4: quick; 12 makes each authenticated request cost what it
# does on real BMCs, ~0.3 s).
# Systems (fake driver; Id = UUID):
#   node1 11111111-1111-4111-8111-000000000001 On
#   node2 11111111-1111-4111-8111-000000000002 Off
#   twin  11111111-1111-4111-8111-000000000003 On   (two systems share the name "twin")
#   twin  11111111-1111-4111-8111-000000000004 On
# The fake driver applies a power change 1-11 s (random) after the request; REDFISH_BMC_POWER_DELAY
# (seconds, default 1) fixes that delay so tests are quick and repeatable. The change still lands
# after the reset request returns, so an agent must poll to see it.
set -euo pipefail
VENV=${PADDOCK_TEST_VENV:-/opt/paddock-test/venv}
die() { echo "redfish-bmc: $*" >&2; exit 1; }

make_certs() { # dir mode
    local d=$1 mode=$2
    case $mode in
    https)
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Paddock test CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
            -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
        printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
            "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" > "$d/server.ext"
        openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
            -days 30 -extfile "$d/server.ext" -out "$d/server.pem" 2>/dev/null ;;
    selfsigned)
        # what `openssl req -x509` makes by default, and what many BMCs ship: CA:TRUE on the leaf
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" \
            -keyout "$d/server.key" -out "$d/server.pem" 2>/dev/null ;;
    esac
}

start() {
    local d=$1 port=$2 mode=${3:-http} listen=${4:-127.0.0.1}
    [ -x "$VENV/bin/sushy-emulator" ] || die "sushy-emulator missing in $VENV: run tests/setup.d/redfish.sh"
    command -v openssl >/dev/null || die "openssl missing: run tests/setup.d/redfish.sh"
    mkdir -p "$d/state"
    REDFISH_BMC_PASSWORD=${REDFISH_BMC_PASSWORD:-password} "$VENV/bin/python" -c '
import bcrypt, os
print("admin:" + bcrypt.hashpw(os.environ["REDFISH_BMC_PASSWORD"].encode(), bcrypt.gensalt(int(os.environ.get("REDFISH_BMC_BCRYPT_COST", "4")))).decode())' > "$d/htpasswd"
    local tls=""
    case $mode in
    http) ;;
    https|selfsigned) make_certs "$d" "$mode"
        tls="SUSHY_EMULATOR_SSL_CERT = '$d/server.pem'
SUSHY_EMULATOR_SSL_KEY = '$d/server.key'" ;;
    *) die "unknown mode $mode (http|https|selfsigned)" ;;
    esac
    cat > "$d/sushy.conf" <<EOC
SUSHY_EMULATOR_LISTEN_IP = '$listen'
SUSHY_EMULATOR_LISTEN_PORT = $port
SUSHY_EMULATOR_FAKE_DRIVER = True
SUSHY_EMULATOR_AUTH_FILE = '$d/htpasswd'
SUSHY_EMULATOR_STATE_DIR = '$d/state'
$tls
SUSHY_EMULATOR_FAKE_SYSTEMS = [
    {'uuid': '11111111-1111-4111-8111-000000000001', 'name': 'node1', 'power_state': 'On', 'nics': []},
    {'uuid': '11111111-1111-4111-8111-000000000002', 'name': 'node2', 'power_state': 'Off', 'nics': []},
    {'uuid': '11111111-1111-4111-8111-000000000003', 'name': 'twin', 'power_state': 'On', 'nics': []},
    {'uuid': '11111111-1111-4111-8111-000000000004', 'name': 'twin', 'power_state': 'On', 'nics': []},
]
EOC
    # Fix the fake driver's random 1-11 s power delay (see above); the rest is sushy-emulator as shipped.
    setsid "$VENV/bin/python" -c '
import sys, types
from sushy_tools.emulator.resources.systems import fakedriver
delay = int(sys.argv[1])
fakedriver.random = types.SimpleNamespace(randint=lambda low, high: delay)
from sushy_tools.emulator.main import main
sys.argv = ["sushy-emulator", "--config", sys.argv[2]]
sys.exit(main())' "${REDFISH_BMC_POWER_DELAY:-1}" "$d/sushy.conf" > "$d/emulator.log" 2>&1 < /dev/null &
    echo $! > "$d/pid"
    local scheme=http; [ "$mode" = http ] || scheme=https
    local host=$listen; case $listen in *:*) host="[$listen]" ;; esac
    for _ in $(seq 1 150); do
        # any HTTP answer (401 without credentials) means it is up
        code=$(curl -gks -o /dev/null -w '%{http_code}' --max-time 1 "$scheme://$host:$port/redfish/v1/" || true)
        [ "$code" != 000 ] && [ -n "$code" ] && return 0
        kill -0 "$(cat "$d/pid")" 2>/dev/null || { cat "$d/emulator.log" >&2; die "sushy-emulator exited"; }
        sleep 0.1
    done
    stop "$d"
    die "sushy-emulator did not answer on $host:$port within 15 s"
}

stop() {
    local d=$1
    [ -f "$d/pid" ] || return 0
    local pid; pid=$(cat "$d/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$d/pid"
}

case ${1:-} in
start) [ $# -ge 3 ] || die "usage: $0 start DIR PORT [http|https|selfsigned] [LISTEN_IP]"; shift; start "$@" ;;
stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
*) die "usage: $0 start DIR PORT [http|https|selfsigned] [LISTEN_IP] | stop DIR" ;;
esac
