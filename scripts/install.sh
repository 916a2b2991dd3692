#!/usr/bin/env bash
# Installs what ciab needs on a Debian 12 host to run on its embedded defaults: bubblewrap for the
# local runtime, and the npm workspace. Idempotent; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v bwrap >/dev/null 2>&1 || ! command -v git >/dev/null 2>&1; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap git ca-certificates >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error
# The CLI runs from built JavaScript (bin/ciab.mjs falls back to the sources when they are newer).
npm run --silent build:cli >/dev/null
# The web UI the server serves at / (packages/web/dist).
npm run --silent build -w @ciab/web >/dev/null
