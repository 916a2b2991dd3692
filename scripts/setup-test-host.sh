#!/usr/bin/env bash
# Prepares a Debian 12 host for the test suite: the packages the backends need, chromium for the web UI's
# tests, a Docker Engine with no bridge network, ciab's default image and the EC2 harness's "AMI" image
# (built from Debian packages, cached), the npm workspace and the built web UI. moto_server (the emulated
# AWS APIs) comes with the host's Python.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
needed=()
command -v dockerd >/dev/null 2>&1 || needed+=(docker.io)
command -v bwrap >/dev/null 2>&1 || needed+=(bubblewrap)
command -v mmdebstrap >/dev/null 2>&1 || needed+=(mmdebstrap)
command -v git >/dev/null 2>&1 || needed+=(git)
# clamd for the artifact scanning tests; they start their own with the signatures in test/artifacts/clamd/.
command -v clamd >/dev/null 2>&1 || needed+=(clamav-daemon)
# Packer for the image builds (test/images/); Debian ships 1.6.6, which the builtin templates target.
command -v packer >/dev/null 2>&1 || needed+=(packer)
# Debian's chromium for the web UI tests (test/web/), driven by playwright-core.
command -v chromium >/dev/null 2>&1 || needed+=(chromium)
if [ ${#needed[@]} -gt 0 ]; then
  echo "installing ${needed[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${needed[@]}" >/dev/null
fi
as_root bash scripts/start-dockerd.sh
as_root bash scripts/build-default-image.sh
as_root bash scripts/build-ami-image.sh
command -v moto_server >/dev/null 2>&1 || echo "warning: moto_server is not on PATH; the EC2 tests need it (pip install 'moto[server]')" >&2
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build -w @ciab/web >/dev/null
node --import tsx scripts/install-agent-clis.ts
