#!/usr/bin/env bash
# Installs the real iSCSI peers the interop tests and benchmarks run against:
# libiscsi's tools (iscsi-ls, iscsi-inq, iscsi-test-cu, iscsi-perf), tgt (tgtd) and QEMU's iSCSI client.
# Idempotent: does nothing when every tool is already on PATH.
set -euo pipefail

need=()
command -v iscsi-ls >/dev/null 2>&1 || need+=(libiscsi-bin)
command -v iscsi-test-cu >/dev/null 2>&1 || need+=(libiscsi-bin)
command -v tgtd >/dev/null 2>&1 || need+=(tgt)
command -v qemu-img >/dev/null 2>&1 || need+=(qemu-utils qemu-block-extra)

if [ ${#need[@]} -eq 0 ]; then
  echo "install-peers: libiscsi-bin, tgt and qemu-utils already present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends libiscsi-bin tgt qemu-utils qemu-block-extra >/dev/null
echo "install-peers: installed $(printf '%s ' "${need[@]}")"
