import { z } from "@hono/zod-openapi";
import { errorCodes, sandboxPathSchema } from "@ciab/protocol";

/** Shapes used by several route files. */
export const errorResponseSchema = z
  .object({
    error: z.object({
      code: z.enum(errorCodes as [string, ...string[]]),
      message: z.string(),
      context: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .openapi("Error");

/** A yes/no query parameter. */
export const flag = z.enum(["true", "false", "1", "0"]).transform((value) => value === "true" || value === "1");

/** A query parameter that may be given several times; one occurrence arrives as a string. */
export function repeated<T extends z.ZodType>(item: T) {
  return z.union([item, z.array(item).max(50)]).transform((value) => (Array.isArray(value) ? value : [value]) as z.output<T>[]);
}

/** The query of a list route that takes no parameters: any given is refused rather than ignored. */
export const noQuery = z.strictObject({});

export const sandboxIDParams = z.object({
  id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" }, example: "sbx_01j9z3k8x2m4n6p8r0t2v4w6y8" }),
});

export const pathQuery = z.object({
  path: named(sandboxPathSchema, { example: "/workspace/README.md" }),
});

export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { content: { "application/json": { schema } }, description };
}

export const errorResponses = {
  400: jsonContent(errorResponseSchema, "Invalid request"),
  401: jsonContent(errorResponseSchema, "Missing or unknown token"),
  404: jsonContent(errorResponseSchema, "Not found in this workspace"),
  409: jsonContent(errorResponseSchema, "Not possible in the sandbox's state"),
  502: jsonContent(errorResponseSchema, "The runtime or the agent failed"),
};

/** Running a command: its binary may be missing in the sandbox. */
export const commandNotFoundResponse = {
  422: jsonContent(errorResponseSchema, "command_not_found: the command's binary is not in the sandbox"),
};

/** Anything naming a path: the path resolves outside /workspace. */
export const pathOutsideResponse = {
  403: jsonContent(errorResponseSchema, "path_outside_sandbox: the path (or a link on it) leads out of /workspace"),
};

/** Creating anything that gets a machine: the workspace may be over its hourly cost cap. */
export const costCapResponse = {
  429: jsonContent(errorResponseSchema, "cost_cap_reached: the workspace spent its [budget] max_hourly_usd this hour"),
};

/** A body of raw bytes (`application/octet-stream`), read as it comes rather than validated as JSON. */
export function rawBody(description: string, required = true) {
  return {
    required,
    description,
    content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } },
  };
}

export function jsonBody<T extends z.ZodType>(schema: T) {
  return { body: { required: true, content: { "application/json": { schema } } } };
}

/**
 * A protocol schema with an OpenAPI name. zod 4 puts methods on each instance when it is made, so a schema
 * built before @hono/zod-openapi loaded has no `.openapi`; a clone made now does. This keeps the API's
 * documentation independent of module load order.
 */
export function named<T extends z.ZodType>(schema: T, metadata: string | ({ ref?: string } & Record<string, unknown>)): T {
  const withOpenAPI = (typeof (schema as { openapi?: unknown }).openapi === "function" ? schema : schema.clone()) as unknown as {
    openapi(...metadata: unknown[]): T;
  };
  if (typeof metadata === "string") return withOpenAPI.openapi(metadata);
  const { ref, ...rest } = metadata;
  return ref === undefined ? withOpenAPI.openapi(rest) : withOpenAPI.openapi(ref, rest);
}
