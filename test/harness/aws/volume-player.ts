import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, truncate, open } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { DescribeVolumesCommand, type EC2Client, type Volume } from "@aws-sdk/client-ec2";
import { docker } from "./docker-cli.js";
import type { PlayedInstance } from "./instance-actor.js";

const run = promisify(execFile);

/** The loop driver's block major: instance containers may use these devices (instance-container.ts). */
export const loopMajor = 7;
/** Where AWS puts data volumes (its recommended names); root volumes (/dev/sda1, /dev/xvda) are the container's own disk. */
const dataDevice = /^\/dev\/sd([f-p])$/;
const directoryPrefix = "ciab-ebs-";
const maxPages = 20;

/** One attachment as it is played: a loop device over the volume's file, a node in the instance's /dev. */
export interface PlayedVolume {
  volumeID: string;
  instanceID: string;
  container: string;
  /** The container's start (PlayedInstance.starts) whose /dev holds the node. */
  start: number;
  /** The host's loop device, e.g. /dev/loop3. */
  loopDevice: string;
  /** The node in the container: the Xen name of the attached name (/dev/sdf → /dev/xvdf). */
  node: string;
}

interface Wanted {
  instanceID: string;
  device: string;
  sizeGB: number;
  container: string;
  start: number;
}

/**
 * Plays what moto only records of EBS: each volume is a sparse file (made on its first attach, kept until
 * moto forgets the volume, so data survives detach and reattach), and each attachment to a played instance
 * is a loop device over that file, whose node is made in the running instance container with `mknod`
 * (containers cannot gain devices after start; they are run allowed to use loop devices instead).
 */
export class VolumePlayer {
  readonly #played = new Map<string, PlayedVolume>();

  private constructor(
    private readonly ec2: EC2Client,
    private readonly directory: string,
  ) {}

  static async start(ec2: EC2Client): Promise<VolumePlayer> {
    await removeOrphanedVolumeFiles();
    const directory = await mkdtemp(path.join(os.tmpdir(), `${directoryPrefix}${process.pid}-`));
    return new VolumePlayer(ec2, directory);
  }

  /** What is played now, by EBS volume id. */
  get played(): ReadonlyMap<string, PlayedVolume> {
    return this.#played;
  }

  /** The file that holds a volume's bytes. */
  fileOf(volumeID: string): string {
    return path.join(this.directory, `${volumeID}.img`);
  }

  /** Brings loop devices and nodes in line with moto's attachments and the instances' containers. */
  async sync(instanceOf: (instanceID: string) => Readonly<PlayedInstance> | undefined): Promise<void> {
    const volumes = await this.#describe();
    const wanted = new Map<string, Wanted>();
    for (const volume of volumes) {
      const attachment = volume.Attachments?.find((candidate) => candidate.State === "attached" || candidate.State === "attaching");
      if (!attachment?.InstanceId || !attachment.Device || !dataDevice.test(attachment.Device)) continue;
      const instance = instanceOf(attachment.InstanceId);
      if (!instance?.container || (instance.containerState !== "booting" && instance.containerState !== "running")) continue;
      wanted.set(volume.VolumeId!, {
        instanceID: attachment.InstanceId,
        device: attachment.Device,
        sizeGB: volume.Size ?? 1,
        container: instance.container,
        start: instance.starts,
      });
    }
    for (const [volumeID, played] of this.#played) {
      const want = wanted.get(volumeID);
      // A stopped container is not wanted: its /dev goes with the stop, and a start plays the volume anew,
      // also when the stop and the start both fell between two polls.
      if (want?.instanceID === played.instanceID && want.container === played.container && want.start === played.start) continue;
      await this.#unplay(played);
    }
    for (const [volumeID, want] of wanted) {
      if (this.#played.has(volumeID)) continue;
      // A container still being created refuses the exec; the next poll tries again.
      await this.#play(volumeID, want).catch(() => undefined);
    }
    const known = new Set(volumes.map((volume) => volume.VolumeId));
    for (const name of await readdir(this.directory)) {
      const volumeID = name.replace(/\.img$/, "");
      if (!known.has(volumeID) && !this.#played.has(volumeID)) await rm(path.join(this.directory, name), { force: true });
    }
  }

  async close(): Promise<void> {
    for (const played of [...this.#played.values()]) await this.#unplay(played);
    await rm(this.directory, { recursive: true, force: true });
  }

  async #describe(): Promise<Volume[]> {
    const volumes: Volume[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const answer = await this.ec2.send(new DescribeVolumesCommand({ NextToken: nextToken }), { abortSignal: AbortSignal.timeout(5_000) });
      volumes.push(...(answer.Volumes ?? []));
      nextToken = answer.NextToken;
      if (!nextToken) break;
    }
    return volumes;
  }

  async #play(volumeID: string, want: Wanted): Promise<void> {
    const file = this.fileOf(volumeID);
    await mkdir(this.directory, { recursive: true });
    // Sparse: a new EBS volume reads as zeros and costs no disk until written.
    await (await open(file, "a")).close();
    await truncate(file, want.sizeGB * 1024 ** 3);
    const { stdout } = await run("losetup", ["--find", "--show", file]);
    const loopDevice = stdout.trim();
    const node = want.device.replace("/dev/sd", "/dev/xvd");
    try {
      const minor = Number.parseInt(loopDevice.replace("/dev/loop", ""), 10);
      await docker(["exec", want.container, "sh", "-c", `rm -f ${node} && mknod -m 0660 ${node} b ${loopMajor} ${minor}`], { timeoutMs: 15_000 });
    } catch (error) {
      await run("losetup", ["--detach", loopDevice]).catch(() => undefined);
      throw error;
    }
    this.#played.set(volumeID, { volumeID, instanceID: want.instanceID, container: want.container, start: want.start, loopDevice, node });
  }

  /** Removes the node and lets the loop device go (at once, or when the instance unmounts it: autoclear). */
  async #unplay(played: PlayedVolume): Promise<void> {
    this.#played.delete(played.volumeID);
    await docker(["exec", played.container, "rm", "-f", played.node], { timeoutMs: 15_000 }).catch(() => undefined);
    await run("losetup", ["--detach", played.loopDevice]).catch(() => undefined);
  }
}

/** Loop devices and files a killed test process left: their directory names a pid that is gone. */
async function removeOrphanedVolumeFiles(): Promise<void> {
  const entries = await readdir(os.tmpdir()).catch(() => [] as string[]);
  for (const entry of entries) {
    const pid = Number.parseInt(entry.slice(directoryPrefix.length), 10);
    if (!entry.startsWith(directoryPrefix) || !Number.isInteger(pid) || processAlive(pid)) continue;
    const directory = path.join(os.tmpdir(), entry);
    const { stdout } = await run("losetup", ["--noheadings", "--output", "NAME,BACK-FILE", "--list"]).catch(() => ({ stdout: "" }));
    for (const line of stdout.split("\n")) {
      const [name, backing] = line.trim().split(/\s+/, 2);
      if (name && backing?.startsWith(`${directory}/`)) await run("losetup", ["--detach", name]).catch(() => undefined);
    }
    await rm(directory, { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
