import type { Readable } from "node:stream";
import { CiabError, type FileEntry, type FileEntryBody } from "@ciab/protocol";
import type { SizedBody } from "../agent-channel/raw-write.js";
import type { Principal } from "./auth-service.js";
import type { SandboxService } from "./sandbox-service.js";

/** Largest file `read` returns inside JSON; bigger files go through `download`, which streams. */
export const readLimitBytes = 10 * 1024 * 1024;

export function fileEntryView(entry: FileEntry): FileEntryBody {
  const view: FileEntryBody = {
    name: entry.name,
    path: entry.path,
    type: entry.type,
    size: entry.size,
    mode: entry.mode,
    modified_at: entry.modifiedAt,
  };
  if (entry.symlinkTarget !== undefined) view.symlink_target = entry.symlinkTarget;
  return view;
}

/** Reads a whole stream, but never more than `limit` bytes (a file may grow after it was measured). */
async function collect(stream: Readable, limit: number, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.destroy();
      throw tooLarge(path, size);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function tooLarge(path: string, size: number): CiabError {
  return new CiabError("payload_too_large", `${path} is over ${size - 1} bytes; read returns at most ${readLimitBytes}: use files/download`);
}

/** Files in a sandbox's work dir, through its agent, which confines every path to /workspace. */
export function createFileService(sandboxes: SandboxService) {
  const withAgent = sandboxes.withAgent;
  return {
    async list(principal: Principal, id: string, path: string, depth: number) {
      const entries = await withAgent(principal, id, (agent) => agent.listFiles(path, depth));
      return entries.map(fileEntryView);
    },

    async stat(principal: Principal, id: string, path: string) {
      return fileEntryView(await withAgent(principal, id, (agent) => agent.stat(path)));
    },

    async read(principal: Principal, id: string, path: string, encoding: "utf8" | "base64") {
      return withAgent(principal, id, async (agent) => {
        // The size that counts is the opened file's (stat does not follow symlinks; readFile does).
        const file = await agent.readFile(path);
        if (file.size > readLimitBytes) {
          file.stream.destroy();
          throw tooLarge(path, file.size + 1);
        }
        const content = await collect(file.stream, readLimitBytes, path);
        return { path, encoding, content: content.toString(encoding), size: content.length };
      });
    },

    async download(principal: Principal, id: string, path: string) {
      return withAgent(principal, id, (agent) => agent.readFile(path));
    },

    async write(principal: Principal, id: string, path: string, body: Readable | Buffer | SizedBody, mode?: number) {
      return fileEntryView(await withAgent(principal, id, (agent) => agent.writeFile(path, body, mode)));
    },

    async mkdir(principal: Principal, id: string, request: { path: string; mode?: number | undefined; parents?: boolean | undefined }) {
      return fileEntryView(
        await withAgent(principal, id, (agent) =>
          agent.mkdir({
            path: request.path,
            ...(request.mode !== undefined && { mode: request.mode }),
            ...(request.parents !== undefined && { parents: request.parents }),
          }),
        ),
      );
    },

    async rename(principal: Principal, id: string, from: string, to: string) {
      return fileEntryView(await withAgent(principal, id, (agent) => agent.rename({ from, to })));
    },

    async remove(principal: Principal, id: string, path: string, recursive: boolean) {
      await withAgent(principal, id, (agent) => agent.remove({ path, recursive }));
      return { removed: true as const };
    },

    async ports(principal: Principal, id: string) {
      return withAgent(principal, id, async (agent) => {
        const [listening, health] = await Promise.all([agent.ports(), agent.health()]);
        // agentd's own relay to the model gateway is plumbing, not something the sandbox serves.
        return listening.filter((entry) => entry.port !== health.gatewayPort);
      });
    },
  };
}

export type FileService = ReturnType<typeof createFileService>;
