import { createHash } from "node:crypto";
import { mkdir, readlink, symlink, unlink } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Duplex } from "node:stream";
import { CiabError } from "@ciab/protocol";

/** sun_path holds 108 bytes including the terminating NUL. */
const maxSocketPathBytes = 107;

/**
 * The address to bind or connect to for a unix socket at `socketPath`. A path too long for sun_path goes
 * through a short symlink to its directory in the temp dir (bind and connect follow symlinked directories;
 * the limit is on the string only). Shared by the local and docker runtimes, which both bind-mount a host
 * directory at the machine's `/run/ciab`.
 */
export async function agentSocketAddress(socketPath: string): Promise<string> {
  if (Buffer.byteLength(socketPath) <= maxSocketPathBytes) return socketPath;
  const link = shortLinkPath(socketPath);
  const target = path.dirname(socketPath);
  const address = path.join(link, path.basename(socketPath));
  if (Buffer.byteLength(address) > maxSocketPathBytes) {
    throw new CiabError("runtime_error", `the temp dir ${os.tmpdir()} is too long to hold a short socket link`);
  }
  await pointLinkAt(link, target);
  return address;
}

/** Removes the short symlink made for `socketPath`, if any. */
export async function removeAgentSocketLink(socketPath: string): Promise<void> {
  if (Buffer.byteLength(socketPath) <= maxSocketPathBytes) return;
  await unlink(shortLinkPath(socketPath)).catch(() => undefined);
}

/**
 * Opens a stream to agentd's unix socket. Rejects at once while nothing listens (`agent_unreachable`,
 * retryable), so the caller's readiness loop decides how long to wait.
 */
export async function connectUnixSocket(socketPath: string): Promise<Duplex> {
  const address = await agentSocketAddress(socketPath);
  return new Promise((resolve, reject) => {
    const socket = net.connect(address);
    const onError = (error: NodeJS.ErrnoException): void => {
      socket.destroy();
      reject(
        new CiabError("agent_unreachable", `agentd is not listening on ${socketPath}: ${error.code ?? error.message}`, {
          cause: error,
          retryable: true,
        }),
      );
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      resolve(socket);
    });
  });
}

function shortLinkPath(socketPath: string): string {
  const hash = createHash("sha256").update(path.dirname(socketPath)).digest("hex").slice(0, 16);
  return path.join(os.tmpdir(), `ciab-${hash}`);
}

async function pointLinkAt(link: string, target: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await readlink(link).catch(() => undefined);
    if (current === target) return;
    // A link to anywhere else (a stale one, or one planted by someone else) is replaced, never followed.
    if (current !== undefined) await unlink(link).catch(() => undefined);
    try {
      await mkdir(path.dirname(link), { recursive: true });
      await symlink(target, link);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new CiabError("runtime_error", `cannot create the socket link ${link}`, { cause: error });
      }
    }
  }
  throw new CiabError("runtime_error", `the socket link ${link} keeps changing`);
}
