import { defaultNetwork } from "./default-network.js";
import { startMoto, type Moto } from "./moto.js";
import { prepareECS, startTaskPlayer, type TaskPlayer } from "./task-player.js";

export interface EmulatedFargate {
  moto: Moto;
  /** Runs each task moto records as a container of its task definition's image. */
  player: TaskPlayer;
  /** The first subnet and security group of moto's default VPC, as `[runtime.fargate]` takes them. */
  network: { subnets: string[]; security_groups: string[] };
  close(): Promise<void>;
}

export interface EmulatedFargateOptions {
  cluster: string;
  /** Registered in the cluster before the player starts. */
  taskDefinitions: { family: string; image: string }[];
}

/** ECS as the product sees it in tests: moto_server for the API, and the task player to run what it starts. */
export async function startEmulatedFargate({ cluster, taskDefinitions }: EmulatedFargateOptions): Promise<EmulatedFargate> {
  const moto = await startMoto();
  try {
    for (const { family, image } of taskDefinitions) await prepareECS(moto.endpoint, { cluster, family, image });
    const network = await defaultNetwork(moto.endpoint);
    const player = await startTaskPlayer({ endpoint: moto.endpoint, cluster });
    return {
      moto,
      player,
      network,
      async close() {
        await player.close();
        await moto.stop();
      },
    };
  } catch (error) {
    await moto.stop();
    throw error;
  }
}
