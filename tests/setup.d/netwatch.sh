#!/bin/bash
# ocf:paddock:netwatch's arp: targets and its tests: arping from iputils (the package's
# Recommends). Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
dpkg -s iputils-arping >/dev/null 2>&1 || apt-get install -y -q iputils-arping </dev/null >/dev/null
