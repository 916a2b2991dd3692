#!/usr/bin/env bash
# Starts a Docker Engine with no bridge network: containers get loopback only, so nothing a test does can
# reach a private-range address. Idempotent: returns at once when the engine already answers.
set -euo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
log=${CIAB_DOCKERD_LOG:-/var/log/ciab-dockerd.log}
nohup dockerd --bridge=none --iptables=false --ip6tables=false >"$log" 2>&1 &
for _ in $(seq 1 100); do
  if docker info >/dev/null 2>&1; then exit 0; fi
  sleep 0.2
done
echo "dockerd did not start; see $log" >&2
tail -20 "$log" >&2
exit 1
