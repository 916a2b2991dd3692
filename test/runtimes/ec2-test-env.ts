import type { InstancePlayer } from "../harness/aws/index.js";

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
