import type { Duplex } from "node:stream";
import { CiabError } from "@ciab/protocol";
import type { Machine } from "../runtime.js";
import type { InstanceSummary } from "./ec2-client.js";
import type { InstanceDetails } from "./instance-details.js";
import type { ReverseChannelHub } from "./reverse-hub.js";

/** connectAgent waits this long for agentd's idle socket; agentd redials within 3 s of any drop. */
const takeWaitMs = 5_000;

/** The ec2 runtime's use of the hub: tokens for user-data, agent streams, and forgetting a machine. */
export class ReverseChannel {
  constructor(
    private readonly hub: ReverseChannelHub | undefined,
    private readonly describe: (region: string, instanceID: string, signal: AbortSignal) => Promise<InstanceSummary | undefined>,
  ) {}

  /** The user-data's part for a new instance; the token stays good until the provision deadline. */
  prepare(sandboxID: string, ttlMs: number): { channelURL: string; token: string } {
    const hub = this.#hub();
    const agentURL = hub.channelURL(sandboxID, "agent");
    return { channelURL: agentURL.slice(0, -"/agent".length), token: hub.issueToken(sandboxID, ttlMs) };
  }

  /** The hash to keep in the machine's details, once agentd exchanged its token. */
  secretHash(sandboxID: string): string | undefined {
    return this.hub?.secretHashOf(sandboxID);
  }

  async connect(machine: Machine, details: InstanceDetails): Promise<Duplex> {
    const hub = this.#hub();
    // As over SSH: a socket agentd left open is not taken for a machine that is stopping or gone.
    const instance = await this.describe(details.region, details.instanceID, AbortSignal.timeout(20_000));
    if (instance?.state !== "running") {
      throw new CiabError("agent_unreachable", `instance ${details.instanceID} is ${instance?.state ?? "gone"}`, {
        retryable: instance?.state === "pending",
      });
    }
    if (details.channelSecretHash !== undefined) hub.expect(machine.sandboxID, details.channelSecretHash);
    return hub.take(machine.sandboxID, takeWaitMs);
  }

  disconnect(sandboxID: string): void {
    this.hub?.disconnect(sandboxID);
  }

  forget(sandboxID: string): void {
    this.hub?.forget(sandboxID);
  }

  #hub(): ReverseChannelHub {
    if (this.hub === undefined) {
      throw new CiabError("invalid_request", '[runtime.ec2] channel = "reverse" needs [server] public_url, where instances dial in');
    }
    return this.hub;
  }
}
