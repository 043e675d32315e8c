#!/bin/sh
# OpenStack instance HA on a Paddock cluster whose nodes are Nova compute hosts: a dead compute
# host is powered off by its BMC and then forced down in Nova (one fencing level, two devices,
# in that order), and ocf:paddock:nova-evacuate rebuilds its HA instances on the other hosts.
# nova-compute runs under ocf:paddock:procwatch on every compute node: when it cannot start, the
# host's service is disabled in Nova, so the scheduler sends nothing there.
# Needs the power fencing first (../fencing: a device fence-NODE per node). Edit or set:
#   COMPUTE_NODES    "node1 node2 node3"   cluster nodes that are compute hosts (Nova host = node name)
#   OTHER_NODES      ""                    cluster nodes that are not (no nova-compute there)
#   OS_AUTH_URL      Keystone v3, e.g. https://keystone.example:5000/v3
#   OS_USERNAME, OS_PROJECT_NAME, OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME  (admin, admin, Default)
#   PASSWORD_SCRIPT  a root-only (0700) script that prints the Keystone password: it stays out of
#                    the CIB (or use password=... and cibsecret)
#   PCS              the pcs command (default pcs; "pcs -f cib.xml" builds a CIB file)
set -eu
COMPUTE_NODES=${COMPUTE_NODES:-node1 node2 node3}
OTHER_NODES=${OTHER_NODES:-}
OS_AUTH_URL=${OS_AUTH_URL:-https://keystone.example:5000/v3}
OS_USERNAME=${OS_USERNAME:-admin}
OS_PROJECT_NAME=${OS_PROJECT_NAME:-admin}
OS_USER_DOMAIN_NAME=${OS_USER_DOMAIN_NAME:-Default}
OS_PROJECT_DOMAIN_NAME=${OS_PROJECT_DOMAIN_NAME:-Default}
PASSWORD_SCRIPT=${PASSWORD_SCRIPT:-/etc/paddock/keystone-password}
PCS=${PCS:-pcs}
keystone="auth_url=$OS_AUTH_URL username=$OS_USERNAME project_name=$OS_PROJECT_NAME \
user_domain=$OS_USER_DOMAIN_NAME project_domain=$OS_PROJECT_DOMAIN_NAME \
password_script=$PASSWORD_SCRIPT endpoint_type=internal"

# one Nova device for every compute host: off = nova-compute forced down (a reboot too: the
# host stays forced down until it is unfenced, after its evacuations)
# shellcheck disable=SC2086  # $keystone is a list of attributes
$PCS stonith create fence-nova fence_paddock_compute $keystone \
    pcmk_host_list="$COMPUTE_NODES" op monitor interval=60s
for node in $COMPUTE_NODES; do
    # both devices, in order, in one level: the fencing succeeds only when the host is off
    # AND Nova knows it (a second level would only be tried if the first failed)
    $PCS stonith level add 1 "$node" "fence-$node" fence-nova
done

# one instance in the cluster: its work list is Nova (services forced down)
# shellcheck disable=SC2086
$PCS resource create nova-evacuate ocf:paddock:nova-evacuate $keystone \
    interval=1 parallel=3 default_ha=true \
    op monitor interval=10s timeout=20s

# nova-compute on every compute node; a start that fails disables the host in Nova
# shellcheck disable=SC2086
$PCS resource create nova-compute ocf:paddock:procwatch profile=nova-compute $keystone \
    op monitor interval=10s timeout=20s op start timeout=60s \
    clone interleave=true
# cluster nodes that are not compute hosts (controllers) never run it
for node in $OTHER_NODES; do
    $PCS constraint location nova-compute-clone avoids "$node"
done
