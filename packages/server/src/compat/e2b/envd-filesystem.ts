import type { Context } from "hono";
import { z } from "zod";
import { CiabError, sandboxPathSchema } from "@ciab/protocol";
import type { FileService } from "../../services/file-service.js";
import type { Logger } from "../../logger.js";
import { streamingAnswer, unaryAnswer, unaryRequest } from "./connect-framing.js";
import { entryInfo } from "./envd-entry.js";
import type { EnvdContext } from "./envd-process.js";

/**
 * envd's `filesystem.Filesystem` service onto our file service, whose agent confines every path to
 * /workspace (relative paths resolve there, `..` and links out of it are refused) exactly as for our API.
 * Watching directories is not offered: it answers `unimplemented`. Methods throw; the envd router answers
 * what they throw in Connect's error shape.
 */
const pathSchema = z.object({ path: sandboxPathSchema });
const listSchema = z.object({ path: sandboxPathSchema, depth: z.number().int().min(0).max(10).optional() });
const moveSchema = z.object({ source: sandboxPathSchema, destination: sandboxPathSchema });

type Handler = (c: Context, context: EnvdContext) => Promise<Response>;

export function filesystemMethods(files: FileService, limitBytes: number, logger: Logger): Record<string, Handler> {
  const unary = (handle: (c: Context, context: EnvdContext) => Promise<unknown>): Handler => async (c, context) =>
    unaryAnswer(c, await handle(c, context));
  const unsupported = () => new CiabError("capability_unsupported", "watching directories is not supported by ciab's E2B adapter");
  const unimplemented: Handler = async () => {
    throw unsupported();
  };

  return {
    Stat: unary(async (c, { principal, sandboxID }) => {
      const { path } = await unaryRequest(c, pathSchema, limitBytes);
      return { entry: entryInfo(await files.stat(principal, sandboxID, path)) };
    }),

    ListDir: unary(async (c, { principal, sandboxID }) => {
      const { path, depth } = await unaryRequest(c, listSchema, limitBytes);
      const entries = await files.list(principal, sandboxID, path, Math.max(depth ?? 1, 1));
      return { entries: entries.filter((entry) => entry.type !== "other").map(entryInfo) };
    }),

    MakeDir: unary(async (c, { principal, sandboxID }) => {
      const { path } = await unaryRequest(c, pathSchema, limitBytes);
      // E2B's makeDir makes the parents too, and tells an existing directory apart (already_exists → false).
      const existing = await files.stat(principal, sandboxID, path).catch((error: unknown) => {
        if (error instanceof CiabError && error.code === "file_not_found") return undefined;
        throw error;
      });
      if (existing) throw new CiabError("already_exists", `${path} already exists`);
      return { entry: entryInfo(await files.mkdir(principal, sandboxID, { path, parents: true })) };
    }),

    Move: unary(async (c, { principal, sandboxID }) => {
      const { source, destination } = await unaryRequest(c, moveSchema, limitBytes);
      return { entry: entryInfo(await files.rename(principal, sandboxID, source, destination)) };
    }),

    Remove: unary(async (c, { principal, sandboxID }) => {
      const { path } = await unaryRequest(c, pathSchema, limitBytes);
      await files.remove(principal, sandboxID, path, true);
      return {};
    }),

    // A streaming method: its client reads errors from the stream's end, not from the HTTP status.
    WatchDir: async (c) =>
      streamingAnswer(c, logger, async () => {
        throw unsupported();
      }),
    CreateWatcher: unimplemented,
    GetWatcherEvents: unimplemented,
    RemoveWatcher: unimplemented,
  };
}
