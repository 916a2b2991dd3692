import { rm } from "node:fs/promises";
import type { Duplex } from "node:stream";
import { CiabError } from "@ciab/protocol";
import type { DataKey } from "../../data-key.js";
import type { Logger } from "../../logger.js";
import { removeAgentSocketLink } from "../local/agent-socket.js";
import { sandboxPaths } from "../local/machine-layout.js";
import {
  machineLabels,
  type Machine,
  type MachineSpec,
  type ManagedMachine,
  type ProvisionOptions,
  type Runtime,
  type RuntimeCapabilities,
  type RuntimeDependencies,
  type ManagedVolume,
  type VolumeHandle,
  type VolumeSpec,
} from "../runtime.js";
import { ec2SettingsFor, type EC2RuntimeConfig } from "./ec2-runtime-config.js";
import { createEC2API, type EC2API, type InstanceState, type InstanceSummary } from "./ec2-client.js";
import { decodeConsoleOutput } from "./console-output.js";
import { awsCall, isInstanceNotFound } from "./ec2-errors.js";
import { instanceDetails, type InstanceDetails } from "./instance-details.js";
import { attachedVolume, ebsDetails, InstanceVolumes, volumeDevice } from "./instance-volume.js";
import { chooseImage, launchRequest } from "./instance-launch.js";
import { instanceAgentSocket } from "./instance-layout.js";
import { InstanceChannels } from "./instance-channels.js";
import { pollUntil, waitForAgentStream } from "./poll.js";
import { ReverseChannel } from "./reverse-channel.js";
import { generateSSHKeyPair } from "./ssh-key-pair.js";
import { buildUserData } from "./user-data.js";

const managedStates: Record<InstanceState, ManagedMachine["state"]> = {
  pending: "running",
  running: "running",
  // A stopped instance is a paused sandbox (stop_on_pause); its disk is still there.
  stopping: "paused",
  stopped: "paused",
  "shutting-down": "stopped",
  terminated: "stopped",
};

/**
 * Sandboxes as EC2 instances (docs/decisions/0014-ec2-runtime.md). User-data makes the SSH user with a key of the
 * sandbox's own and starts agentd as a unit; the agent channel is an SSH `direct-streamlocal` channel to
 * agentd's socket, through the bastion when one is configured.
 */
export class EC2Runtime implements Runtime {
  readonly name = "ec2" as const;
  readonly capabilities: RuntimeCapabilities;
  readonly defaultImage: string;
  readonly #channels: InstanceChannels;
  readonly #reverse: ReverseChannel;
  readonly #apis = new Map<string, EC2API>();
  readonly #volumes: InstanceVolumes;

  constructor(
    private readonly config: EC2RuntimeConfig,
    private readonly dependencies: RuntimeDependencies,
    private readonly createAPI: (region: string) => EC2API,
    private readonly dataKey: DataKey,
    private readonly logger: Logger,
  ) {
    this.capabilities = { pause: config.stop_on_pause, resourceLimits: false, hostNetwork: false, images: true, volumes: true, volumeSize: true, consoleOutput: true, loaderEnvironment: true };
    this.#volumes = new InstanceVolumes({ config, installationID: dependencies.installationID, logger });
    this.defaultImage = config.default_ami ?? "ubuntu-22.04";
    this.#channels = new InstanceChannels({
      config,
      dataDirectory: dependencies.dataDirectory,
      describe: (region, instanceID, signal) =>
        awsCall("DescribeInstances", () => this.#api(region).describeInstance(instanceID, signal)),
      dataKey,
      logger,
    });
    this.#reverse = new ReverseChannel(dependencies.reverseChannels, (region, instanceID, signal) =>
      awsCall("DescribeInstances", () => this.#api(region).describeInstance(instanceID, signal)),
    );
  }

  async provision(spec: MachineSpec, options: ProvisionOptions): Promise<Machine> {
    const { signal } = options;
    const settings = ec2SettingsFor(this.config, spec.workspaceID);
    const api = this.#api(settings.region);
    const reverse =
      this.config.channel === "reverse"
        ? this.#reverse.prepare(spec.sandboxID, (this.config.instance_ready_timeout_secs + this.config.ssh_timeout_secs) * 1000)
        : undefined;
    const volume = spec.volume && ebsDetails(spec.volume);
    if (volume && volume.region !== settings.region) {
      throw new CiabError("invalid_request", `volume ${spec.volume!.volumeID} is in ${volume.region}; this workspace launches in ${settings.region}`);
    }
    const chosen = await chooseImage(api, settings, spec.image, signal);
    const downloads = this.dependencies.machineDownloads;
    if (!chosen.prebuilt && downloads === undefined) {
      throw new CiabError(
        "invalid_request",
        `AMI ${chosen.image.imageID} (${chosen.image.name}) has no agentd, and instances can download it only from [server] public_url, which is not set`,
      );
    }
    const configURL = this.#offerConfig(spec);
    const userKey = this.config.key_pair_name === undefined ? generateSSHKeyPair(`ciab-${spec.sandboxID}`) : undefined;
    const hostKey = generateSSHKeyPair(`ciab-host-${spec.sandboxID}`);
    const userData = buildUserData({
      sandboxID: spec.sandboxID,
      sshUser: this.config.ssh_user,
      sshPublicKey: userKey?.publicKey,
      configURL,
      hostKey,
      bootstrap: chosen.prebuilt ? undefined : downloads?.files(spec.sandboxID),
      reverse,
    });
    options.onProgress?.(`launching a ${settings.instance_type} instance from ${chosen.image.imageID} in ${settings.region}`);
    const request = launchRequest({
      config: settings,
      spec,
      image: chosen.image,
      installationID: this.dependencies.installationID,
      userData,
    });
    // Without a subnet the instance goes where its volume is; with one, AttachVolume refuses another zone.
    if (volume && settings.subnet_id === undefined) request.availabilityZone = volume.availabilityZone;
    const instance = await awsCall("RunInstances", () => api.launch(request, signal), settings.region);
    const details: InstanceDetails = {
      instanceID: instance.instanceID,
      region: settings.region,
      imageID: chosen.image.imageID,
      instanceType: instance.instanceType || settings.instance_type,
      spot: this.config.spot,
      sshUser: this.config.ssh_user,
      hostKey: hostKey.publicKey.split(" ")[1]!,
      sealedPrivateKey: userKey === undefined ? undefined : this.dataKey.seal(userKey.privateKey),
      keyPairName: this.config.key_pair_name,
      ...(reverse && { channel: "reverse" as const }),
      ...(volume && { volume: { ebsVolumeID: volume.ebsVolumeID, device: volumeDevice } }),
    };
    const machine: Machine = { machineID: instance.instanceID, sandboxID: spec.sandboxID, details: { ...details } };
    try {
      options.onProgress?.(`waiting for ${instance.instanceID} to run`);
      await this.#waitForState(machine, "running", signal);
      if (volume) {
        options.onProgress?.(`attaching EBS volume ${volume.ebsVolumeID} to ${instance.instanceID}`);
        await this.#volumes.attach(api.volumes, volume, instance.instanceID, signal);
      }
      options.onProgress?.(`waiting for agentd on ${instance.instanceID} over ${this.config.channel}`);
      await this.#waitForAgent(machine, signal);
      if (volume) {
        options.onProgress?.(`mounting EBS volume ${volume.ebsVolumeID} at /workspace`);
        await this.#volumes.mount(machine, volume.ebsVolumeID, () => this.connectAgent(machine), this.config.ssh_user, signal);
      }
      const secretHash = reverse && this.#reverse.secretHash(spec.sandboxID);
      if (secretHash !== undefined) machine.details.channelSecretHash = secretHash;
      return machine;
    } catch (error) {
      this.#channels.drop(machine.machineID);
      this.#reverse.forget(spec.sandboxID);
      this.dependencies.machineDownloads?.withdrawConfig(spec.sandboxID);
      const cleanup = AbortSignal.timeout(this.config.instance_ready_timeout_secs * 1000);
      if (volume) await this.#volumes.detach(api.volumes, volume.ebsVolumeID, volume.region, instance.instanceID, cleanup).catch((detachError: unknown) =>
        this.logger.error({ err: detachError, ebsVolumeID: volume.ebsVolumeID }, "cannot detach the volume of a failed instance"),
      );
      await awsCall("TerminateInstances", () => api.terminate(instance.instanceID, AbortSignal.timeout(30_000))).catch(
        (terminateError: unknown) => this.logger.error({ err: terminateError, instanceID: instance.instanceID }, "cannot terminate a failed instance"),
      );
      if (volume) await this.#volumes.waitDetached(api.volumes, volume.ebsVolumeID, cleanup).catch((waitError: unknown) =>
        this.logger.error({ err: waitError, ebsVolumeID: volume.ebsVolumeID }, "the volume of a failed instance is still attached"),
      );
      throw error;
    }
  }

  async pause(machine: Machine, signal: AbortSignal): Promise<void> {
    if (!this.config.stop_on_pause) {
      throw new CiabError("capability_unsupported", "pausing an ec2 sandbox needs [runtime.ec2] stop_on_pause");
    }
    this.#channels.drop(machine.machineID);
    this.#reverse.disconnect(machine.sandboxID);
    await awsCall("StopInstances", () => this.#apiOf(machine).stop(machine.machineID, signal));
    await this.#waitForState(machine, "stopped", signal);
  }

  async resume(machine: Machine, signal: AbortSignal): Promise<void> {
    await awsCall("StartInstances", () => this.#apiOf(machine).start(machine.machineID, signal));
    await this.#waitForState(machine, "running", signal);
    await this.#waitForAgent(machine, signal);
    const volume = attachedVolume(machine);
    if (volume) await this.#volumes.mount(machine, volume.ebsVolumeID, () => this.connectAgent(machine), this.config.ssh_user, signal);
  }

  async destroy(machine: Machine, signal: AbortSignal): Promise<void> {
    const volume = attachedVolume(machine);
    const api = this.#apiOf(machine);
    if (volume) {
      await this.#volumes.unmount(machine, () => this.connectAgent(machine), AbortSignal.any([signal, AbortSignal.timeout(30_000)]));
      await this.#volumes.detach(api.volumes, volume.ebsVolumeID, this.#regionOf(machine), machine.machineID, signal);
    }
    this.#channels.drop(machine.machineID);
    this.#reverse.forget(machine.sandboxID);
    this.dependencies.machineDownloads?.withdrawConfig(machine.sandboxID);
    const instanceID = machine.machineID;
    try {
      if (this.config.terminate_on_delete) {
        await awsCall("TerminateInstances", () => api.terminate(instanceID, signal));
      } else {
        await awsCall("StopInstances", () => api.stop(instanceID, signal));
      }
    } catch (error) {
      if (!isInstanceNotFound((error as CiabError).cause ?? error)) throw error;
    }
    const paths = sandboxPaths(this.dependencies.dataDirectory, machine.sandboxID);
    await rm(paths.directory, { recursive: true, force: true });
    await removeAgentSocketLink(paths.socket);
    // The next sandbox of the volume's user attaches it only once it is available again.
    if (volume) await this.#volumes.waitDetached(api.volumes, volume.ebsVolumeID, signal);
  }

  async createVolume(spec: VolumeSpec, signal: AbortSignal): Promise<Record<string, unknown>> {
    const settings = ec2SettingsFor(this.config, spec.workspaceID);
    return { ...(await this.#volumes.create(this.#api(settings.region).volumes, settings, spec, signal)) };
  }

  async deleteVolume(volume: VolumeHandle, signal: AbortSignal): Promise<void> {
    await this.#volumes.delete(this.#api(ebsDetails(volume).region).volumes, volume, signal);
  }

  async listManagedVolumes(signal: AbortSignal): Promise<ManagedVolume[]> {
    const perRegion = await Promise.all([...this.#regions()].map((region) => this.#volumes.listManaged(this.#api(region).volumes, signal)));
    return perRegion.flat().map(({ volumeID, tags }) => ({
      handle: volumeID,
      volumeID: tags[machineLabels.volumeID],
      workspaceID: tags[machineLabels.workspaceID],
      userID: tags[machineLabels.userID],
    }));
  }

  async listManaged(signal: AbortSignal): Promise<ManagedMachine[]> {
    const tags = { [machineLabels.managed]: "true", [machineLabels.installationID]: this.dependencies.installationID };
    const perRegion = await Promise.all(
      [...this.#regions()].map(async (region) => {
        const instances = await awsCall("DescribeInstances", () => this.#api(region).listInstances(tags, signal));
        return instances.map((instance) => ({ ...instance, region }));
      }),
    );
    return perRegion.flat().flatMap((instance) => {
      const sandboxID = instance.tags[machineLabels.sandboxID];
      // The filter ran in AWS; checked again here so that nothing of another installation is ever touched.
      if (sandboxID === undefined || instance.tags[machineLabels.installationID] !== this.dependencies.installationID) return [];
      const state = managedStates[instance.state] ?? "unknown";
      return [{ machineID: instance.instanceID, sandboxID, state, details: summary(instance), adoptable: false }];
    });
  }

  async connectAgent(machine: Machine): Promise<Duplex> {
    const details = instanceDetails(machine);
    if (details.channel === "reverse") return this.#reverse.connect(machine, details);
    const connection = await this.#channels.connection(machine, details);
    return connection.openStream(instanceAgentSocket);
  }

  async consoleOutput(machine: Machine, signal: AbortSignal): Promise<string> {
    const encoded = await awsCall("GetConsoleOutput", () => this.#apiOf(machine).consoleOutput(machine.machineID, signal));
    return decodeConsoleOutput(encoded);
  }

  async close(): Promise<void> {
    this.#channels.closeAll();
    for (const api of this.#apis.values()) api.close();
    this.#apis.clear();
  }

  /**
   * The single-use URL the instance fetches its env from, or none for a sandbox without env: user-data is
   * readable in the account and from inside the instance, so it carries only a URL that is dead once used.
   */
  #offerConfig(spec: MachineSpec): string | undefined {
    const names = Object.keys(spec.env);
    if (names.length === 0) return undefined;
    const invalid = names.find((name) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name));
    if (invalid !== undefined) {
      throw new CiabError("invalid_request", `environment name ${JSON.stringify(invalid)} cannot be passed to an ec2 sandbox`);
    }
    if (this.dependencies.machineDownloads === undefined) {
      throw new CiabError(
        "invalid_request",
        "an ec2 sandbox fetches its env at boot from a single-use URL of [server] public_url, which is not set",
      );
    }
    return this.dependencies.machineDownloads.offerConfig(spec.sandboxID, { env: spec.env });
  }

  #api(region: string): EC2API {
    let api = this.#apis.get(region);
    if (!api) {
      api = this.createAPI(region);
      this.#apis.set(region, api);
    }
    return api;
  }

  /** The client of the region the machine was launched in (a workspace may launch elsewhere). */
  #apiOf(machine: Machine): EC2API {
    return this.#api(this.#regionOf(machine));
  }

  /** Every region a workspace may launch in. */
  #regions(): Set<string> {
    return new Set([this.config.region, ...Object.values(this.config.workspaces).flatMap((override) => override.region ?? [])]);
  }

  #regionOf(machine: Machine): string {
    const region = machine.details.region;
    return typeof region === "string" && region !== "" ? region : this.config.region;
  }

  async #waitForState(machine: Machine, wanted: "running" | "stopped", signal: AbortSignal): Promise<void> {
    const instanceID = machine.machineID;
    const api = this.#apiOf(machine);
    await pollUntil(
      async (attemptSignal) => {
        const instance = await awsCall("DescribeInstances", () => api.describeInstance(instanceID, attemptSignal));
        if (instance?.state === wanted) return true;
        if (instance?.state === "terminated" || instance?.state === "shutting-down") {
          throw new CiabError("runtime_error", `instance ${instanceID} was terminated while waiting for it to be ${wanted}`, {
            context: { instanceID },
          });
        }
        return undefined;
      },
      { timeoutMs: this.config.instance_ready_timeout_secs * 1000, signal, firstDelayMs: 500, maxDelayMs: 2_000 },
      () =>
        new CiabError("runtime_error", `instance ${instanceID} was not ${wanted} within ${this.config.instance_ready_timeout_secs} s`, {
          retryable: true,
          context: { instanceID },
        }),
    );
  }

  async #waitForAgent(machine: Machine, signal: AbortSignal): Promise<void> {
    await waitForAgentStream(() => this.connectAgent(machine), { timeoutMs: this.config.ssh_timeout_secs * 1000, signal, what: `agentd on ${machine.machineID}` });
  }

}

export function createEC2Runtime(
  config: EC2RuntimeConfig,
  dependencies: RuntimeDependencies,
  createAPI: (region: string) => EC2API = (region) => createEC2API({ region, endpoint: config.endpoint }),
): Runtime {
  if (dependencies.dataKey === undefined) {
    throw new CiabError("internal", "the ec2 runtime needs the data key to seal its SSH keys");
  }
  return new EC2Runtime(
    config,
    dependencies,
    createAPI,
    dependencies.dataKey,
    dependencies.logger.child({ runtime: "ec2" }),
  );
}

/** Enough for the reconciler to destroy an orphan in its own region. */
function summary(instance: InstanceSummary & { region: string }): Record<string, unknown> {
  return { instanceID: instance.instanceID, region: instance.region, instanceType: instance.instanceType, state: instance.state };
}
