import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { Hono } from "hono";
import { z } from "zod";
import { CiabError } from "@ciab/protocol";
import type { MachineConfigOffers } from "../services/machine-config-offers.js";
import { machineFiles, type MachineDownloadSigner } from "../services/machine-download-signer.js";
import type { ToolsArchive } from "../services/tools-archive.js";

export interface MachineDownloadDependencies {
  signer: MachineDownloadSigner;
  /** Host paths of the files served as they are. */
  files: { node: string; agentd: string };
  /** The tools dir as a tarball (services/tools-archive.ts). */
  toolsArchive: () => Promise<ToolsArchive>;
  configs: MachineConfigOffers;
}

const querySchema = z.object({
  sandbox: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  expires: z.coerce.number().int().positive(),
  signature: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/),
});

const noStore = { "cache-control": "no-store" };

/**
 * `GET /machine-downloads/{node|agentd|tools|config}?sandbox&expires&signature`: unauthenticated, outside
 * /api/v1, for instances that fetch what they run from user-data. The signature is the only credential; the
 * config URL serves once.
 */
export function machineDownloadRoutes(dependencies: MachineDownloadDependencies): Hono {
  const app = new Hono();
  app.get("/machine-downloads/:file", async (c) => {
    const file = z.enum(machineFiles).safeParse(c.req.param("file"));
    if (!file.success) throw new CiabError("not_found", `no machine download ${c.req.param("file")}`);
    const query = querySchema.safeParse(c.req.query());
    if (!query.success) throw new CiabError("unauthorized", "the download URL is not a signed one");
    if (file.data === "config") return c.json(dependencies.configs.take(query.data), 200, noStore);
    dependencies.signer.verify(file.data, query.data);
    const served =
      file.data === "tools"
        ? await dependencies.toolsArchive()
        : { path: dependencies.files[file.data], size: (await stat(dependencies.files[file.data])).size, contentHash: undefined };
    const body = Readable.toWeb(createReadStream(served.path)) as ReadableStream;
    return new Response(body, {
      headers: {
        "content-type": "application/octet-stream",
        "content-length": String(served.size),
        ...(served.contentHash !== undefined && { etag: `"${served.contentHash}"` }),
        ...noStore,
      },
    });
  });
  return app;
}
