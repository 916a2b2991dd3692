import type { EC2Client } from "@aws-sdk/client-ec2";
import { ensureAgentAMIImage } from "./ami-images.js";
import { harnessEC2Client } from "./ec2-client.js";
import { startInstancePlayer, type InstancePlayer } from "./instance-player.js";
import { startMoto, type Moto } from "./moto.js";

export interface EmulatedEC2 {
  moto: Moto;
  /** Boots each instance moto records as a container; its bastion is the way in over SSH. */
  player: InstancePlayer;
  /** A client of moto's EC2 API, for what a test reads back. */
  aws: EC2Client;
  close(): Promise<void>;
}

export interface EmulatedEC2Options {
  /** Tags the pre-built agent AMI's image (node and this checkout's agentd in it) first, for `agentAMIID`. */
  agentAMI?: { agentdBundlePath: string; nodeBinaryPath: string };
}

/** EC2 as the product sees it in tests: moto_server for the API, and the instance player to run what it launches. */
export async function startEmulatedEC2(options: EmulatedEC2Options = {}): Promise<EmulatedEC2> {
  if (options.agentAMI !== undefined) await ensureAgentAMIImage(options.agentAMI);
  const moto = await startMoto();
  let player: InstancePlayer;
  try {
    player = await startInstancePlayer({ endpoint: moto.endpoint, pollIntervalMs: 200 });
  } catch (error) {
    await moto.stop();
    throw error;
  }
  const aws = harnessEC2Client(moto.endpoint);
  return {
    moto,
    player,
    aws,
    async close() {
      aws.destroy();
      await player.close();
      await moto.stop();
    },
  };
}
