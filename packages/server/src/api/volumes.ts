import { createRoute, z } from "@hono/zod-openapi";
import { volumeIDSchema, volumeListSchema, volumeSchema } from "@ciab/protocol";
import type { VolumeService } from "../services/volume-service.js";
import { createRouter } from "./api-env.js";
import { errorResponses, jsonContent, named } from "./schemas.js";

const volume = named(volumeSchema, "Volume");
const idParams = z.object({ id: named(volumeIDSchema, { param: { name: "id", in: "path" } }) });

const list = createRoute({
  method: "get",
  path: "/volumes",
  summary: "List persistent volumes: the caller's own (a workspace admin: everyone's in the workspace)",
  responses: { 200: jsonContent(volumeListSchema, "The volumes, oldest first"), ...errorResponses },
});

const get = createRoute({
  method: "get",
  path: "/volumes/{id}",
  summary: "Get a persistent volume",
  request: { params: idParams },
  responses: { 200: jsonContent(volume, "The volume"), ...errorResponses },
});

const remove = createRoute({
  method: "delete",
  path: "/volumes/{id}",
  summary: "Delete a persistent volume and its files (409 volume_in_use while a live sandbox mounts it)",
  request: { params: idParams },
  responses: { 200: jsonContent(z.object({ deleted: z.literal(true) }), "Deleted"), ...errorResponses },
});

export function volumeRoutes(volumes: VolumeService) {
  return createRouter()
    .openapi(list, async (c) => {
      const records = await volumes.list(c.var.principal);
      return c.json({ volumes: await Promise.all(records.map((record) => volumes.view(record))) }, 200);
    })
    .openapi(get, async (c) => c.json(await volumes.view(await volumes.get(c.var.principal, c.req.valid("param").id)), 200))
    .openapi(remove, async (c) => {
      await volumes.delete(c.var.principal, c.req.valid("param").id);
      return c.json({ deleted: true as const }, 200);
    });
}
