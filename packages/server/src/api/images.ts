import { createRoute, z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import { providerNames } from "../providers/provider.js";
import type { ImageService } from "../services/image-service.js";
import type { ImageBuildRecord, ImageRecord } from "../store/image-records.js";
import { createRouter } from "./api-env.js";
import { errorResponses, errorResponseSchema, jsonBody, jsonContent } from "./schemas.js";

const buildID = z.string().regex(/^bld_[0-9a-z]{26}$/, "a build id (bld_…)");
const imageID = z.string().regex(/^img_[0-9a-z]{26}$/, "an image id (img_…)");
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region like us-east-1");

const buildRequestSchema = z
  .strictObject({
    provider: z.string().max(64).optional().openapi({ example: "claude-code", description: `One of ${providerNames.join(", ")}` }),
    region: region.optional(),
    instance_type: z.string().regex(/^[a-z0-9-]+\.[a-z0-9-]+$/, "an instance type like t3.medium").optional(),
    template: z.string().min(1).max(2048).optional().openapi({ example: "builtin://default-docker" }),
    vars: z.record(z.string().max(64), z.string().max(4096)).refine((vars) => Object.keys(vars).length <= 64, "at most 64 variables").optional(),
    wait: z.boolean().optional(),
  })
  .openapi("ImageBuildRequest");

const buildSchema = z
  .object({
    id: z.string(),
    state: z.enum(["queued", "building", "succeeded", "failed"]),
    runtime: z.enum(["docker", "ec2"]),
    provider: z.string(),
    region: z.string().nullable(),
    instance_type: z.string().nullable(),
    template: z.string(),
    vars: z.record(z.string(), z.string()),
    step: z.string().nullable(),
    percent: z.number().nullable(),
    image_id: z.string().nullable(),
    error: z.string().nullable(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
  })
  .openapi("ImageBuild");

const imageSchema = z
  .object({
    id: z.string(),
    build_id: z.string(),
    runtime: z.enum(["docker", "ec2"]),
    provider: z.string(),
    region: z.string().nullable(),
    reference: z.string().openapi({ description: "The AMI id, or the Docker image tag" }),
    name: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("Image");

export function buildView(record: ImageBuildRecord): z.infer<typeof buildSchema> {
  return {
    id: record.id,
    state: record.state,
    runtime: record.runtime,
    provider: record.provider,
    region: record.region,
    instance_type: record.instanceType,
    template: record.template,
    vars: record.vars,
    step: record.step,
    percent: record.percent,
    image_id: record.imageID,
    error: record.error,
    created_at: record.createdAt,
    started_at: record.startedAt,
    finished_at: record.finishedAt,
  };
}

function imageView(record: ImageRecord): z.infer<typeof imageSchema> {
  return { id: record.id, build_id: record.buildID, runtime: record.runtime, provider: record.provider, region: record.region, reference: record.reference, name: record.name, created_at: record.createdAt };
}

const buildParams = z.object({ build_id: buildID.openapi({ param: { name: "build_id", in: "path" } }) });
const imageParams = z.object({ image_id: imageID.openapi({ param: { name: "image_id", in: "path" } }) });
const unavailable = { 422: jsonContent(errorResponseSchema, "capability_unsupported: packer is not installed") };

const startBuild = createRoute({
  method: "post",
  path: "/images/build",
  summary: "Start an image build (Packer); with `wait`, answer when it ends",
  request: jsonBody(buildRequestSchema),
  responses: { 202: jsonContent(buildSchema, "The queued build"), 200: jsonContent(buildSchema, "The finished build (wait)"), ...errorResponses, ...unavailable, 403: jsonContent(errorResponseSchema, "Host templates and templates from URLs are for installation admins") },
});

const getBuild = createRoute({
  method: "get",
  path: "/images/builds/{build_id}",
  summary: "Get an image build's state and progress",
  request: { params: buildParams },
  responses: { 200: jsonContent(buildSchema, "The build"), ...errorResponses },
});

const cancelBuild = createRoute({
  method: "post",
  path: "/images/builds/{build_id}/cancel",
  summary: "Cancel a build: Packer is interrupted and removes what it created",
  request: { params: buildParams },
  responses: { 200: jsonContent(buildSchema, "The failed build"), ...errorResponses },
});

const buildLogs = createRoute({
  method: "get",
  path: "/images/builds/{build_id}/logs",
  summary: "Packer's log of a build as server-sent events (`log.line`, then `build.end`), live while it runs",
  request: { params: buildParams },
  responses: { 200: { content: { "text/event-stream": { schema: z.string() } }, description: "The log" }, ...errorResponses },
});

const listImages = createRoute({
  method: "get",
  path: "/images",
  summary: "List built images",
  request: {
    query: z.object({
      region: region.optional(),
      provider: z.string().max(64).optional(),
      runtime: z.enum(["docker", "ec2"]).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
  },
  responses: { 200: jsonContent(z.object({ images: z.array(imageSchema) }), "Images, oldest first"), ...errorResponses },
});

const getImage = createRoute({
  method: "get",
  path: "/images/{image_id}",
  summary: "Get an image",
  request: { params: imageParams },
  responses: { 200: jsonContent(imageSchema, "The image"), ...errorResponses },
});

const deleteImage = createRoute({
  method: "delete",
  path: "/images/{image_id}",
  summary: "Delete an image: DeregisterImage and DeleteSnapshot for an AMI, docker rmi for a Docker image",
  request: { params: imageParams },
  responses: { 200: jsonContent(z.object({ deleted: z.literal(true) }), "Deleted"), ...errorResponses },
});

export function imageRoutes(images: ImageService) {
  return createRouter()
    .openapi(startBuild, async (c) => {
      const body = c.req.valid("json");
      const build = await images.build(c.var.principal, { provider: body.provider, region: body.region, instanceType: body.instance_type, template: body.template, vars: body.vars }, body.wait ?? false);
      return c.json(buildView(build), body.wait ? 200 : 202);
    })
    .openapi(getBuild, async (c) => c.json(buildView(await images.getBuild(c.var.principal, c.req.valid("param").build_id)), 200))
    .openapi(cancelBuild, async (c) => c.json(buildView(await images.cancel(c.var.principal, c.req.valid("param").build_id)), 200))
    .openapi(buildLogs, async (c) => {
      const build = await images.getBuild(c.var.principal, c.req.valid("param").build_id);
      return streamSSE(c, async (stream) => {
        const pending: Array<string | null> = [];
        let wake: (() => void) | undefined;
        const follower = images.followLogs(c.var.principal, build, (line) => {
          pending.push(line);
          wake?.();
        });
        stream.onAbort(() => {
          follower.stop();
          pending.push(null);
          wake?.();
        });
        try {
          for (const line of (await follower.backlog).split("\n")) if (line !== "") await stream.writeSSE({ event: "log.line", data: JSON.stringify({ line }) });
          if (build.state === "queued" || build.state === "building") {
            for (;;) {
              if (pending.length === 0) await new Promise<void>((resolve) => (wake = resolve));
              const line = pending.shift();
              if (line === null || line === undefined) break;
              await stream.writeSSE({ event: "log.line", data: JSON.stringify({ line }) });
            }
          }
          const final = await images.getBuild(c.var.principal, build.id);
          await stream.writeSSE({ event: "build.end", data: JSON.stringify(buildView(final)) });
        } finally {
          follower.stop();
        }
      });
    })
    .openapi(listImages, async (c) => {
      const query = c.req.valid("query");
      const records = await images.listImages(c.var.principal, query);
      return c.json({ images: records.map(imageView) }, 200);
    })
    .openapi(getImage, async (c) => c.json(imageView(await images.getImage(c.var.principal, c.req.valid("param").image_id)), 200))
    .openapi(deleteImage, async (c) => {
      await images.deleteImage(c.var.principal, c.req.valid("param").image_id, c.req.raw.signal);
      return c.json({ deleted: true as const }, 200);
    });
}
