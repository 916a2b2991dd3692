import { randomBytes } from "node:crypto";
import { DescribeInstancesCommand, type Instance } from "@aws-sdk/client-ec2";
import { assertPlainAMIImagePresent } from "./ami-images.js";
import { startBastion, type BastionAddress } from "./bastion.js";
import { cachedImageLookup, readKeyPairPublicKey, readUserData } from "./boot-inputs.js";
import { docker } from "./docker-cli.js";
import { harnessEC2Client } from "./ec2-client.js";
import { InstanceActor, type PlayedInstance } from "./instance-actor.js";
import type { BootRecord } from "./instance-container.js";
import { removeOrphanedContainers } from "./orphaned-containers.js";
import { VolumePlayer, type PlayedVolume } from "./volume-player.js";

export interface InstancePlayerOptions {
  endpoint: string;
  region?: string;
  pollIntervalMs?: number;
  /** Boots that run cloud-init at the same time; the rest wait. */
  concurrentBoots?: number;
  bastionUser?: string;
}

export interface InstancePlayer {
  /** Where the product's `[runtime.ec2.bastion]` points. */
  bastion: BastionAddress;
  /** The container playing an instance, while one exists. */
  containerOf(instanceID: string): string | undefined;
  /** What the player knows of an instance (a live view), or undefined before a poll has seen it. */
  instance(instanceID: string): Readonly<PlayedInstance> | undefined;
  /** Resolves once `condition` holds for the instance; rejects after `timeoutMs` or when following it failed. */
  waitFor(instanceID: string, condition: (instance: Readonly<PlayedInstance>) => boolean, timeoutMs?: number): Promise<Readonly<PlayedInstance>>;
  /** Resolves with the instance's `number`th boot (default: the first) once cloud-init finished it. */
  waitForBoot(instanceID: string, options?: { number?: number; timeoutMs?: number }): Promise<BootRecord>;
  /** EBS volumes attached to played instances, by volume id, as loop devices inside their containers. */
  readonly volumes: ReadonlyMap<string, PlayedVolume>;
  /** The host file that holds a volume's bytes (sparse; made on its first attach). */
  volumeFile(volumeID: string): string;
  /** Polls that failed in a row (moto stopped or slow); polling goes on regardless. */
  readonly failedPolls: number;
  /** Stops polling and removes every container the player made. */
  close(): Promise<void>;
}

const maxPages = 20;

/**
 * Plays what moto only records: every instance moto reports becomes a container of its AMI's image that
 * boots with real cloud-init and the instance's user-data, and follows moto's state (stop, start, terminate).
 */
export async function startInstancePlayer(options: InstancePlayerOptions): Promise<InstancePlayer> {
  await assertPlainAMIImagePresent();
  await removeOrphanedContainers();
  const ec2 = harnessEC2Client(options.endpoint, options.region);
  const playerID = randomBytes(4).toString("hex");
  const actors = new Map<string, InstanceActor>();
  const keyNames = new Map<string, string>();
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const waiter of [...waiters]) waiter();
  };
  const imageOfAMI = cachedImageLookup(ec2);
  const bootSlots = semaphore(options.concurrentBoots ?? 3);
  const volumes = await VolumePlayer.start(ec2);
  const bastion = await startBastion({
    ...(options.bastionUser !== undefined && { user: options.bastionUser }),
    containerAt: (privateIP) => {
      for (const actor of actors.values()) {
        const view = actor.view;
        if (view.privateIP === privateIP && view.sshReady && view.container) return view.container;
      }
      return undefined;
    },
  });

  const prepareBoot = async (instanceID: string, signal: AbortSignal) => {
    const actor = actors.get(instanceID)!;
    const keyName = keyNames.get(instanceID);
    const [userData, image, publicKeys] = await Promise.all([
      readUserData(ec2, instanceID, signal),
      imageOfAMI(actor.view.imageID, signal),
      keyName === undefined ? [] : readKeyPairPublicKey(ec2, keyName, signal),
    ]);
    const hostname = `ip-${(actor.view.privateIP ?? "10.0.0.1").replaceAll(".", "-")}`;
    return { seed: { instanceID, hostname, userData, publicKeys }, image };
  };

  const follow = (instance: Instance) => {
    const instanceID = instance.InstanceId!;
    if (instance.KeyName) keyNames.set(instanceID, instance.KeyName);
    let actor = actors.get(instanceID);
    if (!actor) {
      actor = new InstanceActor(instanceID, instance.ImageId ?? "", {
        prepareBoot,
        withBootSlot: bootSlots,
        containerName: `ciab-ec2-${instanceID}-${playerID}`,
        labels: { "ciab.harness": "instance-player", "ciab.player": playerID, "ciab.player-pid": String(process.pid), "ciab.instance-id": instanceID },
        changed,
      });
      actors.set(instanceID, actor);
    }
    actor.follow(instance.State?.Name ?? "pending", instance.PrivateIpAddress);
  };

  let failedPolls = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;
  const poll = async () => {
    try {
      const seen = new Set<string>();
      let nextToken: string | undefined;
      for (let page = 0; page < maxPages; page++) {
        const answer = await ec2.send(new DescribeInstancesCommand({ NextToken: nextToken }), { abortSignal: AbortSignal.timeout(5_000) });
        for (const instance of (answer.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? [])) {
          if (!instance.InstanceId || closed) continue;
          seen.add(instance.InstanceId);
          follow(instance);
        }
        nextToken = answer.NextToken;
        if (!nextToken) break;
      }
      // moto keeps terminated instances; one it no longer reports was forgotten (moto restarted), so it is gone.
      for (const [instanceID, actor] of actors) if (!seen.has(instanceID) && !closed) actor.follow("terminated", undefined);
      if (!closed) await volumes.sync((instanceID) => actors.get(instanceID)?.view);
      failedPolls = 0;
    } catch {
      failedPolls++;
    }
  };
  const schedule = () => {
    if (closed) return;
    timer = setTimeout(() => {
      polling = poll().finally(schedule);
    }, options.pollIntervalMs ?? 200);
  };
  await poll();
  schedule();

  const waitFor: InstancePlayer["waitFor"] = (instanceID, condition, timeoutMs = 60_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const view = actors.get(instanceID)?.view;
        if (view && condition(view)) return done(() => resolve(view));
        if (view?.error) return done(() => reject(new Error(`instance ${instanceID}: ${view.error}`)));
      };
      const timeout = setTimeout(() => {
        const view = actors.get(instanceID)?.view;
        done(() => reject(new Error(`instance ${instanceID} did not get there in ${timeoutMs} ms: ${JSON.stringify(view ?? "unknown")}`)));
      }, timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timeout);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });

  return {
    bastion: bastion.address,
    containerOf: (instanceID) => actors.get(instanceID)?.view.container,
    instance: (instanceID) => actors.get(instanceID)?.view,
    waitFor,
    async waitForBoot(instanceID, waitOptions = {}) {
      const number = waitOptions.number ?? 1;
      const view = await waitFor(instanceID, (instance) => instance.boots.length >= number, waitOptions.timeoutMs ?? 120_000);
      return view.boots[number - 1]!;
    },
    volumes: volumes.played,
    volumeFile: (volumeID) => volumes.fileOf(volumeID),
    get failedPolls() {
      return failedPolls;
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await polling;
      await bastion.close();
      await Promise.all([...actors.values()].map((actor) => actor.close().catch(() => undefined)));
      await volumes.close();
      // Anything an aborted `docker run` still made carries the player's label.
      const { stdout } = await docker(["ps", "--all", "--quiet", "--filter", `label=ciab.player=${playerID}`]).catch(() => ({ stdout: "" }));
      const leftovers = stdout.split("\n").filter(Boolean);
      if (leftovers.length > 0) await docker(["rm", "--force", "--volumes", ...leftovers]).catch(() => undefined);
      ec2.destroy();
    },
  };
}

/** Runs at most `limit` tasks at once; the others wait in order. */
function semaphore(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const queue: Array<() => void> = [];
  return async (task) => {
    if (running >= limit) await new Promise<void>((resolve) => queue.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      queue.shift()?.();
    }
  };
}
