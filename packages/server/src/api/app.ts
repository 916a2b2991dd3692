import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { CiabError } from "@ciab/protocol";
import type { Logger } from "../logger.js";
import type { AuthService } from "../services/auth-service.js";
import type { ExecService } from "../services/exec-service.js";
import type { FileService } from "../services/file-service.js";
import { createShellService } from "../services/shell-service.js";
import type { SandboxService } from "../services/sandbox-service.js";
import type { WorkspaceService } from "../services/workspace-service.js";
import type { EventService } from "../services/event-service.js";
import type { SecretService } from "../services/secret-service.js";
import type { SessionService } from "../services/session-service.js";
import type { UsageService } from "../services/usage-service.js";
import { adminUsageRoutes } from "./admin-usage.js";
import type { ApiEnv } from "./api-env.js";
import { toErrorResponse } from "./error-handler.js";
import { attachRoutes } from "./attach.js";
import { execRoutes } from "./exec.js";
import { fileRoutes } from "./files.js";
import { sandboxRoutes } from "./sandboxes.js";
import { shellRoutes } from "./shell.js";
import { workspaceRoutes } from "./workspaces.js";
import { secretRoutes } from "./secrets.js";
import { sessionRoutes } from "./sessions.js";
import { machineDownloadRoutes, type MachineDownloadDependencies } from "./machine-downloads.js";

export interface AppDependencies {
  auth: AuthService;
  sandboxes: SandboxService;
  exec: ExecService;
  files: FileService;
  workspaces: WorkspaceService;
  sessions: SessionService;
  events: EventService;
  secrets: SecretService;
  usage: UsageService;
  logger: Logger;
  bodyLimitBytes: number;
  version: string;
  /** Served only when the server has a `[server] public_url`. */
  machineDownloads?: MachineDownloadDependencies;
}

/** Uploads stream their raw body to the sandbox's disk, so no body limit applies. */
const uploadRoute = /^\/api\/v1\/sandboxes\/[^/]+\/files\/upload$/;
/** Stdin takes raw bytes of any type, but the handler holds them in memory: bounded like JSON. */
const stdinRoute = /^\/api\/v1\/sandboxes\/[^/]+\/processes\/[^/]+\/stdin$/;
const publicRoutes = new Set(["/api/v1/health", "/api/v1/openapi.json"]);

/** Builds the HTTP app; only main.ts binds a port, so tests call `app.request()` directly. */
export function createApp(dependencies: AppDependencies): OpenAPIHono<ApiEnv> {
  const { auth, logger } = dependencies;
  const app = new OpenAPIHono<ApiEnv>();

  app.onError((error, c) => toErrorResponse(error, c, logger));
  app.notFound((c) => toErrorResponse(new CiabError("not_found", `no route ${c.req.method} ${c.req.path}`), c, logger));

  app.use("/api/v1/*", async (c, next) => {
    if (uploadRoute.test(c.req.path)) return next();
    const method = c.req.method;
    if (!stdinRoute.test(c.req.path) && (method === "POST" || method === "PUT" || method === "PATCH")) {
      const contentType = c.req.header("content-type");
      const hasBody = c.req.header("content-length") !== "0" && c.req.header("content-length") !== undefined;
      if ((hasBody || c.req.header("transfer-encoding")) && contentType && !/^application\/json\b/i.test(contentType)) {
        throw new CiabError("unsupported_media_type", `send JSON with content-type application/json (got ${contentType})`);
      }
    }
    return bodyLimit({
      maxSize: dependencies.bodyLimitBytes,
      onError: () => {
        throw new CiabError("payload_too_large", `the request body is larger than ${dependencies.bodyLimitBytes} bytes`);
      },
    })(c, next);
  });

  app.use("/api/v1/*", async (c, next) => {
    if (publicRoutes.has(c.req.path)) return next();
    c.set("principal", await auth.authenticate(c.req.header("authorization")));
    return next();
  });

  app.get("/api/v1/health", (c) => c.json({ status: "ok", version: dependencies.version }));
  if (dependencies.machineDownloads) app.route("/", machineDownloadRoutes(dependencies.machineDownloads));
  app.route("/api/v1", sandboxRoutes(dependencies.sandboxes));
  app.route("/api/v1", execRoutes(dependencies.exec));
  app.route("/api/v1", attachRoutes());
  app.route("/api/v1", shellRoutes(createShellService(dependencies.sandboxes)));
  app.route("/api/v1", fileRoutes(dependencies.files));
  app.route("/api/v1", workspaceRoutes(dependencies.workspaces));
  app.route("/api/v1", sessionRoutes(dependencies.sessions, dependencies.events));
  app.route("/api/v1", secretRoutes(dependencies.secrets));
  app.route("/api/v1", adminUsageRoutes(dependencies.usage));

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  app.doc31("/api/v1/openapi.json", {
    openapi: "3.1.0",
    info: { title: "ciab", version: dependencies.version, description: "Coding agents in a box: the control plane API." },
    security: [{ bearer: [] }],
  });
  return app;
}
