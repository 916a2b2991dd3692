import net from "node:net";
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

/** A port free a moment ago: the reverse channel's public URL must be known before the server listens. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
