import { z } from "zod";
import { CiabError } from "@ciab/protocol";
import type { Machine } from "../runtime.js";

/** What an ec2 machine keeps in the sandbox row, so that a restarted control plane reaches it again. */
const instanceDetailsSchema = z.object({
  instanceID: z.string().min(1),
  region: z.string(),
  imageID: z.string(),
  /** Read by the cost guardrails to price the machine. */
  instanceType: z.string(),
  spot: z.boolean(),
  sshUser: z.string().min(1),
  /** The sshd host key the user-data installed (base64 key blob): the only key the channel accepts. */
  hostKey: z.string().min(1),
  /** The sandbox's own SSH private key, sealed with the data key; undefined with an AWS key pair. */
  sealedPrivateKey: z.string().optional(),
  keyPairName: z.string().optional(),
  /** `reverse`: agentd dials in (docs/decisions/0019-ec2-reverse-channel.md); absent means SSH. */
  channel: z.enum(["ssh", "reverse"]).optional(),
  /** SHA-256 of the reverse channel's secret, so that a restarted control plane accepts agentd again. */
  channelSecretHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /** The user's EBS volume attached for /workspace (docs/decisions/0040-ebs-persistent-volumes.md). */
  volume: z.object({ ebsVolumeID: z.string().regex(/^vol-[0-9a-f]+$/), device: z.string().regex(/^\/dev\/sd[f-p]$/) }).optional(),
});

export type InstanceDetails = z.infer<typeof instanceDetailsSchema>;

export function instanceDetails(machine: Machine): InstanceDetails {
  const parsed = instanceDetailsSchema.safeParse(machine.details);
  if (!parsed.success) {
    throw new CiabError("internal", `machine ${machine.machineID} has no usable ec2 details: ${parsed.error.message}`);
  }
  return parsed.data;
}
