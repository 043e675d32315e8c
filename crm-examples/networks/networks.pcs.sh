#!/bin/sh
# Each network a compute node depends on answered by its own policy: storage lost ->
# fence the node (its VMs restart elsewhere), tenant lost -> live-migrate its VMs away,
# administrative lost -> alert only.  One ocf:paddock:netwatch clone per network; a
# network lost on more than half of the nodes is the network's failure, not a host's,
# and then nothing is fenced or moved.  See README.md (and for Corosync on two knet
# links).  Edit or set:
#   STORAGE_IF / STORAGE_TARGETS   interface and peers of the storage network
#   TENANT_IF / TENANT_TARGETS     the same for the tenant network
#   ADMIN_IF / ADMIN_TARGETS       the same for the administrative network
#   PCS  "pcs" (default), or "pcs -f cib.xml" to build a CIB file offline
set -eu
STORAGE_IF=${STORAGE_IF:-eth1}
STORAGE_TARGETS=${STORAGE_TARGETS:-"10.0.1.1 tcp:10.0.1.20:3260"}
TENANT_IF=${TENANT_IF:-eth2}
TENANT_TARGETS=${TENANT_TARGETS:-"arp:10.0.2.1 10.0.2.2"}
ADMIN_IF=${ADMIN_IF:-eth0}
ADMIN_TARGETS=${ADMIN_TARGETS:-"10.0.0.1"}
PCS=${PCS:-pcs}

# on_loss=migrate turns #health-paddock-tenant red: with this strategy Pacemaker moves
# every resource off a red node (VMs with allow-migrate=true live-migrate) and places
# nothing new there until it is green again.
$PCS property set node-health-strategy=migrate-on-red
# on_loss=fence needs fencing configured (../fencing).

# The watchers themselves stay on a red node (allow-unhealthy-nodes): they are what
# turns it green again.  It must be a meta attribute of the clone: Pacemaker applies
# node health to top-level resources, and a clone does not look at its primitive's meta.
# Monitor every 2 s: it only reads the watcher's status file.
# storage: once the loss is confirmed the node leaves the Corosync membership (the others
# fence it without waiting out the token timeout) and its monitor fails (on-fail=fence).
$PCS resource create netwatch-storage ocf:paddock:netwatch network=storage \
    interfaces="$STORAGE_IF" targets="$STORAGE_TARGETS" threshold=1 interval=1 misses=3 \
    on_loss=fence leave_cluster=true \
    op start timeout=30s op stop timeout=20s \
    op monitor interval=2s timeout=20s on-fail=fence \
    clone interleave=true allow-unhealthy-nodes=true
# tenant: node health red while lost here (and not on most nodes).
$PCS resource create netwatch-tenant ocf:paddock:netwatch network=tenant \
    interfaces="$TENANT_IF" targets="$TENANT_TARGETS" threshold=1 interval=1 misses=3 \
    on_loss=migrate \
    op start timeout=30s op stop timeout=20s op monitor interval=2s timeout=20s \
    clone interleave=true allow-unhealthy-nodes=true
# administrative: the attribute, a journal line and a degraded monitor; nothing moves.
$PCS resource create netwatch-admin ocf:paddock:netwatch network=admin \
    interfaces="$ADMIN_IF" targets="$ADMIN_TARGETS" threshold=1 interval=1 misses=3 \
    on_loss=alert \
    op start timeout=30s op stop timeout=20s op monitor interval=2s timeout=20s \
    clone interleave=true allow-unhealthy-nodes=true
