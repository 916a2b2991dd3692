import type { OpenAPIHono } from "@hono/zod-openapi";
import type { ApiEnv } from "./api-env.js";

export type OpenAPIDocument = ReturnType<OpenAPIHono<ApiEnv>["getOpenAPI31Document"]>;
type Operation = NonNullable<NonNullable<OpenAPIDocument["paths"]>[string]["get"]>;

const methods = ["get", "put", "post", "delete", "patch"] as const;

/** The groups operations are listed under, in this order; a path's group comes from `tagOf`. */
export const operationTags = [
  { name: "server", description: "Health and this document; no token needed" },
  { name: "sandboxes", description: "Create, list, pause, resume and delete sandboxes" },
  { name: "processes", description: "Commands and background processes in a sandbox" },
  { name: "files", description: "Files of a sandbox's /workspace" },
  { name: "shell", description: "A persistent shell in a sandbox" },
  { name: "sessions", description: "Agent runs, their events and previews" },
  { name: "artifacts", description: "Files sandboxes published" },
  { name: "snapshots", description: "Tarballs of a sandbox's work dir" },
  { name: "secrets", description: "Workspace secrets (provider keys)" },
  { name: "workspaces", description: "Workspaces: installation admins create and list them" },
  { name: "users", description: "A workspace's users and their roles" },
  { name: "tokens", description: "API tokens: created, listed and revoked" },
  { name: "approvals", description: "Tool calls waiting for a person's yes or no" },
  { name: "audit", description: "The trail of tool calls agents made" },
  { name: "volumes", description: "Persistent volumes sandboxes mount" },
  { name: "images", description: "Images (AMIs, Docker images) built with Packer" },
  { name: "admin", description: "Installation-wide reports for admins" },
  { name: "budget", description: "A workspace's spending this hour against its hourly cost cap" },
  { name: "e2b", description: "E2B's REST API for programs written for E2B's SDK (send the token as X-API-Key)" },
];

const errorSchemaRef = { $ref: "#/components/schemas/Error" };

/** Answers the edge gives on any route, whatever the route's own file lists. */
function edgeError(description: string) {
  return { description, content: { "application/json": { schema: errorSchemaRef } } };
}

/**
 * Fills in what every operation has in common, so that route files do not repeat it: an operationId from
 * method and path (`getSandboxesByIdFilesStat`), a tag from the path, and the error answers of the edge
 * (401 without a valid token, 413 and 415 for bodies, 431 for headers, 500 for a bug).
 */
export function completeDocument(document: OpenAPIDocument): OpenAPIDocument {
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of methods) {
      const operation = item[method];
      if (!operation) continue;
      operation.operationId ??= operationID(method, path);
      if (!operation.tags?.length) operation.tags = [tagOf(path)];
      addEdgeErrors(operation);
    }
  }
  const used = new Set(Object.values(document.paths ?? {}).flatMap((item) => methods.flatMap((method) => item[method]?.tags ?? [])));
  document.tags = operationTags.filter((tag) => used.has(tag.name));
  for (const name of used) if (!document.tags.some((tag) => tag.name === name)) document.tags.push({ name });
  return document;
}

function addEdgeErrors(operation: Operation): void {
  const responses = operation.responses ?? {};
  const add = (status: string, description: string): void => {
    responses[status] ??= edgeError(description);
  };
  const authenticated = operation.security === undefined || operation.security.length > 0;
  if (authenticated) add("401", "Missing, unknown, revoked or expired token");
  const content = (operation.requestBody as { content?: Record<string, unknown> } | undefined)?.content;
  if (content !== undefined) {
    add("413", "payload_too_large: the body is over the server's limit");
    if ("application/json" in content) add("415", "unsupported_media_type: the body must be JSON");
  }
  add("431", "header_too_large: the request's headers are over the server's limit");
  add("500", "internal: a bug; the message says no more than that");
  operation.responses = responses;
}

/** The resource a path belongs to: its first segment, with a sandbox's processes, files and shell apart. */
export function tagOf(path: string): string {
  const [first = "", , sub = ""] = path.replace(/^\/api\/v1\//, "").split("/");
  if (first === "health" || first === "openapi.json") return "server";
  if (first === "sandboxes" && (sub === "exec" || sub === "processes")) return "processes";
  if (first === "sandboxes" && (sub === "files" || sub === "shell" || sub === "snapshots")) return sub;
  if (first === "tokens" || first === "users") return "workspaces";
  return first;
}

function operationID(method: string, path: string): string {
  const words = path
    .replace(/^\/api\/v1\//, "")
    .split("/")
    .flatMap((segment) => {
      const parameter = /^\{(.+)\}$/.exec(segment);
      return parameter ? ["by", ...parameter[1]!.split("_")] : segment.split(/[_.-]/);
    });
  return method + words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join("");
}
