import { spawn } from "node:child_process";
import { timingSafeEqual } from "node:crypto";
import type { AddressInfo } from "node:net";
import ssh2, { type Connection } from "ssh2";
import { generateSSHKeyPair } from "./ssh-keys.js";

/** What the product's `[runtime.ec2.bastion]` section takes to reach the harness's bastion. */
export interface BastionAddress {
  host: "127.0.0.1";
  port: number;
  user: string;
  /** The OpenSSH private key the bastion accepts for `user`. */
  privateKey: string;
}

export interface Bastion {
  address: BastionAddress;
  /** The bastion's own host key, for a client that pins it. */
  hostPublicKey: string;
  close(): Promise<void>;
}

export interface BastionOptions {
  user?: string;
  /** The container whose sshd serves `<private IP>:22`, or undefined while nothing listens there. */
  containerAt(privateIP: string): string | undefined;
  maxConnections?: number;
}

// ssh2 is CommonJS, and Node's ES module loader finds only some of its names: take them from the default.
const { Server, utils } = ssh2;
const stderrTailBytes = 4_000;

/**
 * An SSH jump host on loopback, as a bastion in the instances' VPC would be: it accepts `direct-tcpip` to
 * `<private IP>:22` and serves each such channel with the instance's own sshd in inetd mode
 * (`docker exec -i <container> /usr/sbin/sshd -i`), so no packet goes to the private address itself.
 */
export async function startBastion(options: BastionOptions): Promise<Bastion> {
  const user = options.user ?? "ciab-bastion";
  const maxConnections = options.maxConnections ?? 64;
  const clientKey = generateSSHKeyPair();
  const hostKey = generateSSHKeyPair();
  const allowed = utils.parseKey(clientKey.publicKey);
  if (allowed instanceof Error) throw allowed;
  const connections = new Set<Connection>();
  const server = new Server({ hostKeys: [hostKey.privateKey] }, (client) => {
    if (connections.size >= maxConnections) return client.end();
    connections.add(client);
    client.on("close", () => connections.delete(client));
    client.on("error", () => client.end());
    client.on("authentication", (context) => {
      if (
        context.method === "publickey" &&
        context.username === user &&
        context.key.algo === allowed.type &&
        sameBytes(context.key.data, allowed.getPublicSSH()) &&
        (!context.signature || allowed.verify(context.blob!, context.signature, context.hashAlgo) === true)
      ) {
        return context.accept();
      }
      context.reject(["publickey"]);
    });
    client.on("ready", () => {
      client.on("session", (_accept, reject) => reject());
      client.on("tcpip", (accept, reject, info) => {
        const container = info.destPort === 22 ? options.containerAt(info.destIP) : undefined;
        if (!container) return reject();
        const channel = accept();
        const sshd = spawn("docker", ["exec", "-i", container, "/usr/sbin/sshd", "-i"], { stdio: ["pipe", "pipe", "pipe"] });
        let stderr = "";
        sshd.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-stderrTailBytes)));
        channel.pipe(sshd.stdin);
        sshd.stdout.pipe(channel);
        sshd.stdin.on("error", () => channel.destroy());
        channel.on("error", () => sshd.kill("SIGKILL"));
        channel.on("close", () => sshd.kill("SIGKILL"));
        sshd.once("error", () => channel.destroy());
        sshd.once("close", () => channel.end());
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    address: { host: "127.0.0.1", port, user, privateKey: clientKey.privateKey },
    hostPublicKey: hostKey.publicKey,
    close: () =>
      new Promise<void>((resolve) => {
        for (const connection of connections) connection.end();
        server.close(() => resolve());
      }),
  };
}

function sameBytes(left: Buffer, right: Buffer): boolean {
  return left.length === right.length && timingSafeEqual(left, right);
}
