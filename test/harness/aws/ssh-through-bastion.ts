import { Client, type ConnectConfig } from "ssh2";
import type { BastionAddress } from "./bastion.js";

export interface InstanceLogin {
  privateIP: string;
  user: string;
  privateKey: string;
  command: string;
  timeoutMs?: number;
}

/** Runs one command on an instance as the product reaches it (through the bastion); answers its stdout. */
export async function runThroughBastion(bastion: BastionAddress, login: InstanceLogin): Promise<string> {
  const timeoutMs = login.timeoutMs ?? 20_000;
  const jump = await connect({ host: bastion.host, port: bastion.port, username: bastion.user, privateKey: bastion.privateKey, readyTimeout: timeoutMs });
  try {
    const tunnel = await new Promise<NodeJS.ReadWriteStream>((resolve, reject) =>
      jump.forwardOut("127.0.0.1", 0, login.privateIP, 22, (error, stream) => (error ? reject(error) : resolve(stream))),
    );
    const instance = await connect({ sock: tunnel as unknown as ConnectConfig["sock"], username: login.user, privateKey: login.privateKey, readyTimeout: timeoutMs });
    try {
      return await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${login.command} took over ${timeoutMs} ms`)), timeoutMs);
        instance.exec(login.command, (error, channel) => {
          if (error) return reject(error);
          let stdout = "";
          let stderr = "";
          channel.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
          channel.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
          channel.on("close", (code: number | undefined) => {
            clearTimeout(timer);
            if (code === 0) resolve(stdout);
            else reject(new Error(`${login.command} exited with ${code}: ${stderr}`));
          });
        });
      });
    } finally {
      instance.end();
    }
  } finally {
    jump.end();
  }
}

function connect(config: ConnectConfig): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once("ready", () => resolve(client));
    client.once("error", reject);
    client.connect(config);
  });
}
