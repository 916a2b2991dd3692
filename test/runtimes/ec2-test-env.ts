import { agentAMIID, type EmulatedEC2, type InstancePlayer } from "../harness/aws/index.js";

/** The `[runtime.ec2.bastion]` env that sends SSH through the instance player's bastion. */
export function bastionEnv(bastion: InstancePlayer["bastion"]): Record<string, string> {
  return {
    CIAB_RUNTIME_EC2_BASTION_HOST: bastion.host,
    CIAB_RUNTIME_EC2_BASTION_PORT: String(bastion.port),
    CIAB_RUNTIME_EC2_BASTION_USER: bastion.user,
    CIAB_RUNTIME_EC2_BASTION_PRIVATE_KEY: bastion.privateKey,
  };
}

export { freePort } from "../harness/free-port.js";

/**
 * A test server's env for the ec2 runtime on the emulated EC2, agentd given 30 s to answer. Over `ssh`: the
 * agent AMI, reached through the player's bastion; over `reverse`: agentd dials back (the server needs a
 * public URL on loopback for it).
 */
export function ec2ServerEnv(ec2: EmulatedEC2, channel: "ssh" | "reverse"): Record<string, string> {
  return {
    CIAB_RUNTIME: "ec2",
    CIAB_EC2_ENDPOINT: ec2.moto.endpoint,
    CIAB_RUNTIME_EC2_SSH_USER: "admin",
    CIAB_SERVER_AGENT_READY_TIMEOUT_SECONDS: "30",
    ...(channel === "ssh" ? { CIAB_EC2_AMI_ID: agentAMIID, ...bastionEnv(ec2.player.bastion) } : { CIAB_RUNTIME_EC2_CHANNEL: "reverse" }),
  };
}
