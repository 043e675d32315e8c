#!/bin/sh
# Fencing for a VM cluster: one IPMI fence device per node, each allowed to
# kill exactly its node (pcmk_host_list), and kept off the node it kills.
# Run on any cluster node (pcs talks to the local CIB).  Edit or set:
#   BMCS          "node=ip[:port] ..."   the BMC of every node
#   BMC_USER      IPMI user (admin)
#   BMC_PASSWORD  IPMI password (read from the environment, not hard-coded)
#   FENCE_AGENT   fence_paddock_ipmi (or fence_ipmilan: same parameters)
#   FENCE_EXTRA   extra device attributes, e.g. "power_wait=0"
set -eu
BMCS=${BMCS:?set BMCS, e.g. BMCS="node1=10.0.0.101 node2=10.0.0.102 node3=10.0.0.103"}
BMC_USER=${BMC_USER:-admin}
BMC_PASSWORD=${BMC_PASSWORD:?set BMC_PASSWORD}
FENCE_AGENT=${FENCE_AGENT:-fence_paddock_ipmi}

pcs property set stonith-enabled=true
# a fenced host is powered back on (reboot); its VMs are restarted elsewhere
# as soon as the device confirmed the host is off
pcs property set stonith-action=reboot
for entry in $BMCS; do
    node=${entry%%=*}; addr=${entry#*=}
    ip=${addr%%:*}; port=623
    [ "$addr" != "$ip" ] && port=${addr#*:}
    # shellcheck disable=SC2086  # FENCE_EXTRA is a list of attributes
    pcs stonith create "fence-$node" "$FENCE_AGENT" \
        ip="$ip" ipport="$port" username="$BMC_USER" password="$BMC_PASSWORD" \
        lanplus=1 pcmk_host_list="$node" ${FENCE_EXTRA:-} \
        op monitor interval=60s
    # a node never runs the device that kills it (it could not report the result)
    pcs constraint location "fence-$node" avoids "$node"
done
