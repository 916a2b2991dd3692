import type { Readable } from "node:stream";
import { CiabError, type FileEntry, type FileEntryBody } from "@ciab/protocol";
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

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
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
        const entry = await agent.stat(path);
        if (entry.type === "dir") throw new CiabError("is_a_directory", `${entry.path} is a directory`);
        if (entry.size > readLimitBytes) {
          throw new CiabError(
            "payload_too_large",
            `${entry.path} is ${entry.size} bytes; read returns at most ${readLimitBytes}: use files/download`,
          );
        }
        const file = await agent.readFile(path);
        const content = await collect(file.stream);
        return { path: entry.path, encoding, content: content.toString(encoding), size: content.length };
      });
    },

    async download(principal: Principal, id: string, path: string) {
      return withAgent(principal, id, (agent) => agent.readFile(path));
    },

    async write(principal: Principal, id: string, path: string, body: Readable | Buffer, mode?: number) {
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
      return withAgent(principal, id, (agent) => agent.ports());
    },
  };
}

export type FileService = ReturnType<typeof createFileService>;
