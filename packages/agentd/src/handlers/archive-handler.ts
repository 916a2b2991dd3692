import { constants } from "node:http2";
import type { Handler } from "../http/agent-request.js";
import { respondJSON } from "../http/respond.js";
import type { ArchiveService } from "../services/archive-service.js";

export type ArchiveHandlers = Record<"pack" | "unpack", Handler>;

export function createArchiveHandlers(archives: ArchiveService): ArchiveHandlers {
  return {
    pack: async ({ stream, signal }) => {
      const run = await archives.pack();
      signal.addEventListener("abort", run.kill, { once: true });
      stream.respond({ ":status": 200, "content-type": "application/gzip" });
      run.stream.pipe(stream, { end: false });
      try {
        await run.done;
        await new Promise<void>((resolve) => (run.stream.readableEnded ? resolve() : run.stream.once("end", resolve)));
        if (!stream.destroyed) stream.end();
      } catch {
        // The headers went out already: a reset is the only way to tell the reader the archive is not whole.
        if (!stream.destroyed) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      }
    },

    unpack: async ({ stream, signal }) => {
      await archives.unpack(stream, signal);
      respondJSON(stream, { restored: true });
    },
  };
}
