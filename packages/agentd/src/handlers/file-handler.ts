import { pipeline } from "node:stream/promises";
import { CiabError, workspacePath, type MkdirRequest } from "../protocol.js";
import type { Handler } from "../http/agent-request.js";
import { readJSONBody } from "../http/read-body.js";
import { respondJSON } from "../http/respond.js";
import { optionalBoolean, optionalNumber, requireString } from "../http/validate.js";
import type { FileService } from "../services/file-service.js";

/** Header carrying the permission bits of a downloaded file, in octal (`644`). */
export const modeHeader = "x-ciab-mode";

function parseMode(text: string | null): number | undefined {
  if (text === null || text === "") return undefined;
  if (!/^(0o)?[0-7]{1,4}$/.test(text)) throw new CiabError("invalid_request", "mode must be octal, e.g. 644");
  return Number.parseInt(text.replace(/^0o/, ""), 8);
}

function parseDepth(text: string | null): number {
  if (text === null || text === "") return 1;
  const depth = Number(text);
  if (!Number.isInteger(depth)) throw new CiabError("invalid_request", "depth must be an integer");
  return depth;
}

export type FileHandlers = Record<"list" | "stat" | "read" | "write" | "mkdir" | "remove" | "rename", Handler>;

export function createFileHandlers(files: FileService): FileHandlers {
  return {
    list: async ({ stream, query }) => {
      const entries = await files.list(query.get("path") ?? workspacePath, parseDepth(query.get("depth")));
      respondJSON(stream, { entries });
    },

    stat: async ({ stream, query }) => {
      respondJSON(stream, await files.stat(query.get("path")));
    },

    read: async ({ stream, query }) => {
      const file = await files.open(query.get("path"));
      if (stream.destroyed) {
        file.stream.destroy();
        return;
      }
      stream.respond({
        ":status": 200,
        "content-type": "application/octet-stream",
        "content-length": file.size,
        [modeHeader]: file.mode.toString(8),
      });
      await pipeline(file.stream, stream).catch(() => undefined); // a peer that leaves mid-file is not an error
    },

    write: async ({ stream, query }) => {
      const mode = parseMode(query.get("mode"));
      respondJSON(stream, await files.write(query.get("path"), stream, mode));
    },

    mkdir: async ({ stream }) => {
      const body = await readJSONBody(stream);
      const mode = optionalNumber(body, "mode");
      const parents = optionalBoolean(body, "parents");
      const request: MkdirRequest = { path: requireString(body, "path") };
      if (mode !== undefined) request.mode = mode;
      if (parents !== undefined) request.parents = parents;
      respondJSON(stream, await files.mkdir(request));
    },

    remove: async ({ stream }) => {
      const body = await readJSONBody(stream);
      const recursive = optionalBoolean(body, "recursive");
      await files.remove({ path: requireString(body, "path"), ...(recursive === undefined ? {} : { recursive }) });
      respondJSON(stream, { removed: true });
    },

    rename: async ({ stream }) => {
      const body = await readJSONBody(stream);
      respondJSON(stream, await files.rename({ from: requireString(body, "from"), to: requireString(body, "to") }));
    },
  };
}
