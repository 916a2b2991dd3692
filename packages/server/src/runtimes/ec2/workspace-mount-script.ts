/**
 * Run as root on the instance (through agentd and `sudo -n`) with: EBS volume id, the device name it was
 * attached at (/dev/sdX), the SSH user, the mount point, agentd's systemd unit. Finds the device the way the instance's kernel
 * named it: an NVMe namespace whose serial is the volume id without its dash (Nitro), the udev link made
 * from that serial, else the Xen name /dev/xvdX, else the name as attached. Formats only a device that
 * carries no signature blkid knows and whose first MiB is zeros (a new EBS volume), so a filesystem with
 * data, or anything blkid cannot name, is never formatted. Mounting again what is already mounted is a no-op.
 *
 * Then records the mount in /etc/fstab, so that a reboot nobody asked ciab for mounts it again before agentd
 * starts (docs/decisions/0044-volume-handover-and-remount.md): by a name the volume keeps across boots (the
 * udev link from its serial on Nitro, the Xen name), `nofail` so a detached volume never blocks a boot.
 * Where the device has no such name (an NVMe namespace without udev links, renamed at will), no line is
 * written: a wrong device mounted at /workspace is worse than none, and ciab's resume mounts it anyway.
 */
export const workspaceMountScript = String.raw`
set -eu
volume="$1"; attached="$2"; owner="$3"; target="$4"; unit="$5"
serial=$(printf '%s' "$volume" | tr -d -)
letter=${"${attached#/dev/sd}"}
remember() {
  stable=""
  for candidate in "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_$serial" "/dev/xvd$letter"; do
    if [ -b "$candidate" ] && [ "$(readlink -f "$candidate")" = "$(findmnt -n -o SOURCE --mountpoint "$target" | xargs readlink -f)" ]; then stable="$candidate"; break; fi
  done
  [ -n "$stable" ] || return 0
  line="$stable $target ext4 nodev,nosuid,nofail,x-systemd.device-timeout=120s,x-systemd.before=$unit 0 2"
  touch /etc/fstab
  awk -v t="$target" '$2 != t' /etc/fstab > /etc/fstab.ciab
  printf '%s\n' "$line" >> /etc/fstab.ciab
  mv /etc/fstab.ciab /etc/fstab
}
if mountpoint -q "$target"; then remember; exit 0; fi
device=""
tries=0
while [ -z "$device" ] && [ "$tries" -lt 240 ]; do
  for path in /sys/block/nvme*n*; do
    [ -r "$path/device/serial" ] || continue
    if [ "$(tr -d ' ' < "$path/device/serial")" = "$serial" ]; then device="/dev/${"${path##*/}"}"; break; fi
  done
  if [ -z "$device" ]; then
    for candidate in "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_$serial" "/dev/xvd$letter" "$attached"; do
      if [ -b "$candidate" ]; then device=$(readlink -f "$candidate"); break; fi
    done
  fi
  [ -n "$device" ] || { tries=$((tries + 1)); sleep 0.5; }
done
if [ -z "$device" ]; then echo "no block device for $volume (attached as $attached) appeared" >&2; exit 3; fi
set +e
blkid -p "$device" >/dev/null 2>&1
probe=$?
set -e
if [ "$probe" -eq 2 ]; then
  if [ "$(head -c 1048576 "$device" | tr -d '\000' | wc -c)" -ne 0 ]; then
    echo "$device holds data blkid cannot name; refusing to format it" >&2
    exit 4
  fi
  mkfs.ext4 -q -L ciab-workspace "$device"
elif [ "$probe" -ne 0 ]; then
  echo "blkid cannot probe $device (exit $probe)" >&2
  exit 5
fi
type=$(blkid -p -o value -s TYPE "$device" || true)
if [ "$type" != "ext4" ]; then echo "$device holds ${"${type:-no filesystem}"}, not the ext4 ciab makes; refusing to mount it" >&2; exit 6; fi
mkdir -p "$target"
mount -t ext4 -o nodev,nosuid "$device" "$target"
chown "$owner": "$target"
remember
`;

/**
 * Forgets the mount in /etc/fstab, then flushes and unmounts the work dir before the volume is detached;
 * a busy mount is detached lazily.
 */
export const workspaceUnmountScript = String.raw`
set -u
target="$1"
if [ -f /etc/fstab ] && awk -v t="$target" '$2 == t { found = 1 } END { exit !found }' /etc/fstab; then
  awk -v t="$target" '$2 != t' /etc/fstab > /etc/fstab.ciab && mv /etc/fstab.ciab /etc/fstab
fi
mountpoint -q "$target" || exit 0
sync -f "$target" 2>/dev/null || sync
umount "$target" 2>/dev/null || umount -l "$target"
`;
