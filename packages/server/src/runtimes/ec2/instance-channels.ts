import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CiabError } from "@ciab/protocol";
import type { DataKey } from "../../data-key.js";
import type { Logger } from "../../logger.js";
import { gatewaySocketName, sandboxPaths } from "../local/machine-layout.js";
import type { Machine } from "../runtime.js";
import type { EC2BastionConfig, EC2RuntimeConfig } from "./ec2-runtime-config.js";
import type { InstanceSummary } from "./ec2-client.js";
import type { InstanceDetails } from "./instance-details.js";
import { instanceGatewaySocket } from "./instance-layout.js";
import { SSHConnection, type SSHEndpoint } from "./ssh-connection.js";

export interface InstanceChannelsOptions {
  config: EC2RuntimeConfig;
  dataDirectory: string;
  describe: (region: string, instanceID: string, signal: AbortSignal) => Promise<InstanceSummary | undefined>;
  dataKey: DataKey;
  logger: Logger;
}

/** One handshake's budget; the readiness wait around it decides how long to keep trying. */
const handshakeTimeoutMs = 20_000;

/**
 * One SSH connection per instance, shared by every agent stream to it and made again when it drops.
 * The instance's address is looked up on each new connection (a started instance may have a new one).
 */
export class InstanceChannels {
  readonly #connections = new Map<string, Promise<SSHConnection>>();
  #bastionKey: string | undefined;

  constructor(private readonly options: InstanceChannelsOptions) {}

  async connection(machine: Machine, details: InstanceDetails): Promise<SSHConnection> {
    const existing = this.#connections.get(machine.machineID);
    if (existing) {
      const connection = await existing.catch(() => undefined);
      if (connection?.isOpen) return connection;
      if (this.#connections.get(machine.machineID) === existing) this.#connections.delete(machine.machineID);
    }
    let opening = this.#connections.get(machine.machineID);
    if (!opening) {
      opening = this.#open(machine, details);
      this.#connections.set(machine.machineID, opening);
      const current = opening;
      opening.then(
        (connection) =>
          void connection.closed.then(() => {
            if (this.#connections.get(machine.machineID) === current) this.#connections.delete(machine.machineID);
          }),
        () => {
          if (this.#connections.get(machine.machineID) === current) this.#connections.delete(machine.machineID);
        },
      );
    }
    return opening;
  }

  drop(machineID: string): void {
    const existing = this.#connections.get(machineID);
    this.#connections.delete(machineID);
    void existing?.then((connection) => connection.close(), () => undefined);
  }

  closeAll(): void {
    for (const machineID of [...this.#connections.keys()]) this.drop(machineID);
  }

  async #open(machine: Machine, details: InstanceDetails): Promise<SSHConnection> {
    const { config } = this.options;
    const signal = AbortSignal.timeout(handshakeTimeoutMs * 2);
    const instance = await this.options.describe(details.region, details.instanceID, signal);
    if (instance?.state !== "running") {
      throw new CiabError("agent_unreachable", `instance ${details.instanceID} is ${instance?.state ?? "gone"}`, {
        retryable: instance !== undefined && instance.state === "pending",
      });
    }
    const host = config.bastion ? instance.privateIPAddress : (instance.publicIPAddress ?? instance.privateIPAddress);
    if (host === undefined) {
      throw new CiabError("agent_unreachable", `instance ${details.instanceID} has no address yet`, { retryable: true });
    }
    const target: SSHEndpoint = {
      host,
      port: config.ssh_port,
      user: details.sshUser,
      privateKey: this.#userKey(details),
      hostKey: details.hostKey,
    };
    const run = sandboxPaths(this.options.dataDirectory, machine.sandboxID).run;
    return SSHConnection.open({
      target,
      bastion: config.bastion ? this.#bastion(config.bastion) : undefined,
      reverseSocket: { remote: instanceGatewaySocket, local: path.join(run, gatewaySocketName) },
      timeoutMs: handshakeTimeoutMs,
      signal,
      onWarning: (message, error) =>
        this.options.logger.warn({ sandboxID: machine.sandboxID, err: (error as Error).message }, message),
    });
  }

  #userKey(details: InstanceDetails): string {
    if (details.sealedPrivateKey !== undefined) return this.options.dataKey.open(details.sealedPrivateKey);
    if (details.keyPairName !== undefined) return readKey(path.join(os.homedir(), ".ssh", `${details.keyPairName}.pem`));
    throw new CiabError("internal", `instance ${details.instanceID} has neither a sealed key nor a key pair`);
  }

  #bastion(bastion: EC2BastionConfig): SSHEndpoint {
    this.#bastionKey ??= bastion.private_key ?? readKey(bastion.private_key_path!);
    return { host: bastion.host, port: bastion.port, user: bastion.user, privateKey: this.#bastionKey };
  }
}

function readKey(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new CiabError("invalid_request", `cannot read the SSH private key ${file}: ${(error as Error).message}`, { cause: error });
  }
}
