import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { Hono } from "hono";
import { z } from "zod";
import { CiabError } from "@ciab/protocol";
import { machineFiles, type MachineDownloadSigner } from "../services/machine-download-signer.js";

export interface MachineDownloadDependencies {
  signer: MachineDownloadSigner;
  /** Host paths of the files served. */
  files: Record<(typeof machineFiles)[number], string>;
}

const querySchema = z.object({
  sandbox: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  expires: z.coerce.number().int().positive(),
  signature: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/),
});

/**
 * `GET /machine-downloads/{node|agentd}?sandbox&expires&signature`: unauthenticated, outside /api/v1, for
 * instances that fetch agentd from user-data. The signature is the only credential.
 */
export function machineDownloadRoutes(dependencies: MachineDownloadDependencies): Hono {
  const app = new Hono();
  app.get("/machine-downloads/:file", async (c) => {
    const file = z.enum(machineFiles).safeParse(c.req.param("file"));
    if (!file.success) throw new CiabError("not_found", `no machine download ${c.req.param("file")}`);
    const query = querySchema.safeParse(c.req.query());
    if (!query.success) throw new CiabError("unauthorized", "the download URL is not a signed one");
    dependencies.signer.verify(file.data, query.data);
    const path = dependencies.files[file.data];
    const { size } = await stat(path);
    const body = Readable.toWeb(createReadStream(path)) as ReadableStream;
    return new Response(body, {
      headers: { "content-type": "application/octet-stream", "content-length": String(size), "cache-control": "no-store" },
    });
  });
  return app;
}
