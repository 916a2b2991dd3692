#!/usr/bin/env bash
# Builds the plain "AMI" image that the EC2 test harness boots for every instance (test/harness/aws/): Debian
# bookworm with cloud-init and sshd, made from Debian packages with mmdebstrap and `docker import`, plus the
# harness's files (cloud-init settings, a systemctl stand-in) from test/harness/aws/image/. The bootstrapped
# root is cached as a tarball keyed by the package list, and the image carries a hash of the files it was
# made from, so a run rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
image=${CIAB_AMI_IMAGE:-ciab/ami-debian:bookworm}
cache_dir=${CIAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ciab}
packages=cloud-init,openssh-server,sudo,curl,ca-certificates,git,bash,libstdc++6,procps,iproute2,xz-utils,less
files=test/harness/aws/image
tarball="$cache_dir/ami-root-$(echo "$packages" | sha256sum | cut -c1-12).tar"
files_hash=$( (echo "$packages"; cd "$files" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16)
say() { if [ -t 2 ] || [ -n "${CI:-}" ]; then echo "ciab: $*" >&2; fi; }

present=$(docker image inspect --format '{{ index .Config.Labels "ciab.ami-files" }}' "$image" 2>/dev/null || true)
if [ "$present" = "$files_hash" ] && [ "${1:-}" != "--force" ]; then
  say "image $image is present"
  exit 0
fi
mkdir -p "$cache_dir"
if [ ! -s "$tarball" ] || [ "${1:-}" = "--force" ]; then
  say "bootstrapping Debian bookworm with $packages (about a minute)"
  mmdebstrap --quiet --format=tar --variant=minbase --include="$packages" bookworm "$tarball.partial" >&2
  mv "$tarball.partial" "$tarball"
fi
base="ciab/ami-root:$(basename "$tarball" .tar | cut -d- -f3)"
if ! docker image inspect "$base" >/dev/null 2>&1; then
  say "importing $base"
  docker import "$tarball" "$base" >/dev/null
fi
say "adding the harness's files to $image"
builder="ciab-ami-build-$$"
trap 'docker rm -f "$builder" >/dev/null 2>&1 || true' EXIT
docker run --name "$builder" --network none -v "$PWD/$files:/ciab-image-files:ro" "$base" /bin/sh /ciab-image-files/install.sh
docker commit \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "LABEL ciab.ami-files=$files_hash" \
  --change 'CMD ["/usr/local/sbin/ciab-init"]' \
  "$builder" "$image" >/dev/null
say "built $image"
