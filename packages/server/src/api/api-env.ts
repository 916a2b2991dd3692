import { OpenAPIHono } from "@hono/zod-openapi";
import { CiabError } from "@ciab/protocol";
import type { Principal } from "../services/auth-service.js";

/** Per-request values set by middleware. */
export interface ApiEnv {
  Variables: { principal: Principal };
}

/** A router whose validation failures become `invalid_request` errors naming each bad field. */
export function createRouter(): OpenAPIHono<ApiEnv> {
  return new OpenAPIHono<ApiEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      const issues = result.error.issues.map((issue) => ({
        path: issue.path.map(String).join(".") || `(${result.target})`,
        message: issue.message,
      }));
      const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ");
      throw new CiabError("invalid_request", `invalid ${result.target}: ${summary}`, { context: { issues } });
    },
  });
}
