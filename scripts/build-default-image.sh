#!/usr/bin/env bash
# Builds ciab's default sandbox image from Debian packages (there is no image registry here):
# mmdebstrap makes a minimal root, `docker import` turns it into an image. The root tarball is cached so a
# rebuilt engine re-imports it in seconds instead of bootstrapping again.
set -euo pipefail
image=${CIAB_DEFAULT_IMAGE:-ciab/default:bookworm}
cache_dir=${CIAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ciab}
packages=git,bash,ca-certificates,curl,libstdc++6,procps,iproute2
# The tarball name carries the package list, so changing the list rebuilds.
tarball="$cache_dir/default-image-$(echo "$packages" | sha256sum | cut -c1-12).tar"
say() { if [ -t 2 ]; then echo "ciab: $*" >&2; fi; }

if docker image inspect "$image" >/dev/null 2>&1 && [ "${1:-}" != "--force" ]; then
  say "image $image is present"
  exit 0
fi
mkdir -p "$cache_dir"
if [ ! -s "$tarball" ] || [ "${1:-}" = "--force" ]; then
  say "bootstrapping Debian bookworm with $packages (about 30 s)"
  mmdebstrap --quiet --format=tar --variant=minbase --include="$packages" bookworm "$tarball.partial" >&2
  mv "$tarball.partial" "$tarball"
fi
say "importing $image"
docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'WORKDIR /workspace' \
  --change 'CMD ["/bin/bash"]' \
  "$tarball" "$image" >/dev/null
say "built $image"
