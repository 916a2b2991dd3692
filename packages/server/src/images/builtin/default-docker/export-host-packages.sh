#!/bin/sh
# Writes the files of the host's Debian packages (and of their installed dependencies) that the base image
# lacks into one tarball. Build containers have no network and there is no registry, so the toolchains come
# from the host, which runs the same Debian release as the base image.
# Usage: export-host-packages.sh OUTPUT_TAR BASE_IMAGE PACKAGE...
set -eu
out=$1
base=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
docker run --rm --network none --entrypoint dpkg-query "$base" -W -f '${Package}\n' | sort -u > "$work/present"
for package in "$@"; do
  if ! dpkg-query -W -f '${Status}\n' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    echo "export-host-packages: Debian package $package is not installed on the build host (apt-get install $package)" >&2
    exit 1
  fi
  echo "$package"
done > "$work/queue"
: > "$work/seen"
while [ -s "$work/queue" ]; do
  package=$(head -n 1 "$work/queue")
  sed -i 1d "$work/queue"
  grep -qx "$package" "$work/seen" && continue
  echo "$package" >> "$work/seen"
  # Dependencies: first alternative of each, without versions or architecture qualifiers.
  dpkg-query -W -f '${Pre-Depends}, ${Depends}\n' "$package" 2>/dev/null | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/:.*//; s/ //g' | grep -v '^$' | while read -r dependency; do
    grep -qx "$dependency" "$work/present" && continue
    dpkg-query -W -f '${Status}\n' "$dependency" 2>/dev/null | grep -q 'install ok installed' || continue
    echo "$dependency" >> "$work/queue"
  done
done
grep -vxF -f "$work/present" "$work/seen" > "$work/export" || true
xargs -r dpkg-query -L < "$work/export" | sort -u | while read -r file; do
  [ -f "$file" ] || [ -L "$file" ] && echo "$file"
done > "$work/files"
tar -cf "$out" --no-recursion -T "$work/files"
echo "exported $(wc -l < "$work/export") packages: $(tr '\n' ' ' < "$work/export")"
