export { agentAMIID, agentAMINamePrefix, canonicalOwnerID, harnessAMIs, ownAccountID, ubuntuJammyAMIID } from "./amis.js";
export { agentAMIImage, ensureAgentAMIImage, plainAMIImage } from "./ami-images.js";
export type { BastionAddress } from "./bastion.js";
export { harnessEC2Client } from "./ec2-client.js";
export type { PlayedInstance } from "./instance-actor.js";
export type { BootRecord, BootStageResult } from "./instance-container.js";
export { startInstancePlayer, type InstancePlayer, type InstancePlayerOptions } from "./instance-player.js";
export { startMoto, type Moto } from "./moto.js";
