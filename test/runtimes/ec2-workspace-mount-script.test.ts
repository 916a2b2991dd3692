import { execFile } from "node:child_process";
import { mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { workspaceMountScript, workspaceUnmountScript } from "../../packages/server/src/runtimes/ec2/workspace-mount-script.js";
import { assertPlainAMIImagePresent, plainAMIImage } from "../harness/aws/ami-images.js";
import { docker } from "../harness/aws/docker-cli.js";

const run = promisify(execFile);

/**
 * The mount script on a Nitro-style name: the device is /dev/nvme1n1 and only udev's link made from the
 * NVMe serial (the volume id without its dash) says which volume it is. A loop device plays the disk in a
 * container of the plain AMI image, allowed loop devices as the instance player's are.
 */
describe("the ec2 work-dir mount script", () => {
  const container = `ciab-mount-script-${process.pid}`;
  let directory: string;
  let loopDevice: string;

  beforeAll(async () => {
    await assertPlainAMIImagePresent();
    directory = await mkdtemp(path.join(os.tmpdir(), "ciab-mount-script-"));
    const file = path.join(directory, "disk.img");
    await writeFile(file, "");
    await truncate(file, 64 * 1024 * 1024);
    loopDevice = (await run("losetup", ["--find", "--show", file])).stdout.trim();
    await docker(["run", "--detach", "--name", container, "--network", "none", "--cap-add", "SYS_ADMIN", "--device-cgroup-rule", "b 7:* rwm", plainAMIImage, "sleep", "300"]);
    const minor = loopDevice.replace("/dev/loop", "");
    await docker(["exec", container, "sh", "-c", `mknod /dev/nvme1n1 b 7 ${minor} && mkdir -p /dev/disk/by-id && ln -s ../../nvme1n1 /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123abcd && printf 'LABEL=root / ext4 defaults 0 1\n' >> /etc/fstab`]);
  }, 60_000);

  afterAll(async () => {
    await docker(["rm", "--force", container]).catch(() => undefined);
    if (loopDevice) await run("losetup", ["--detach", loopDevice]).catch(() => undefined);
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  const mount = () => docker(["exec", container, "sh", "-c", workspaceMountScript, "ciab-mount", "vol-0123abcd", "/dev/sdf", "nobody", "/workspace", "ciab-agentd.service"]);
  const fstab = async () => (await docker(["exec", container, "sh", "-c", "grep ' /workspace ' /etc/fstab || true"])).stdout;

  test("finds the NVMe device by the volume's serial, formats it once, mounts it, and mounts it again as it is", async () => {
    await mount();
    const first = await docker(["exec", container, "sh", "-c", "findmnt -n -o SOURCE,FSTYPE /workspace && stat -c %U /workspace && blkid -p -o value -s UUID /dev/nvme1n1 && touch /workspace/kept"]);
    const [source, type, owner, uuid] = first.stdout.split(/\s+/).filter(Boolean);
    expect([source, type, owner]).toEqual(["/dev/nvme1n1", "ext4", "nobody"]);
    // Already mounted: nothing happens.
    await mount();
    await docker(["exec", container, "umount", "/workspace"]);
    // Mounted again from its filesystem, not formatted: the same UUID, the same file.
    await mount();
    const again = await docker(["exec", container, "sh", "-c", "blkid -p -o value -s UUID /dev/nvme1n1 && ls /workspace"]);
    expect(again.stdout.split(/\s+/).filter(Boolean)).toEqual([uuid, "kept", "lost+found"]);
    // Recorded once, by the name udev makes from the serial: an NVMe number may change at the next boot.
    expect(await fstab()).toBe(
      "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123abcd /workspace ext4 nodev,nosuid,nofail,x-systemd.device-timeout=120s,x-systemd.before=ciab-agentd.service 0 2\n",
    );
  }, 60_000);

  test("an unmount forgets the line; a device with no lasting name is mounted but never written down", async () => {
    await docker(["exec", container, "sh", "-c", workspaceUnmountScript, "ciab-unmount", "/workspace"]);
    expect(await fstab()).toBe("");
    // The instance's own lines stay as they were.
    expect((await docker(["exec", container, "grep", "-c", "^LABEL=root / ext4", "/etc/fstab"])).stdout.trim()).toBe("1");
    // Only the name it was attached as: no serial to tell it by, and nothing that lasts across a boot.
    const minor = loopDevice.replace("/dev/loop", "");
    await docker(["exec", container, "sh", "-c", `rm /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123abcd /dev/nvme1n1 && mknod /dev/sdf b 7 ${minor}`]);
    await mount();
    expect((await docker(["exec", container, "findmnt", "-n", "-o", "SOURCE", "/workspace"])).stdout.trim()).toBe("/dev/sdf");
    expect(await fstab()).toBe("");
    await docker(["exec", container, "sh", "-c", workspaceUnmountScript, "ciab-unmount", "/workspace"]);
  }, 60_000);
});
