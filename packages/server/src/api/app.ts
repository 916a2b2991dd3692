import { OpenAPIHono } from "@hono/zod-openapi";
import { CiabError } from "@ciab/protocol";
import type { Logger } from "../logger.js";
import type { AuthService } from "../services/auth-service.js";
import type { ExecService } from "../services/exec-service.js";
import type { FileService } from "../services/file-service.js";
import type { ShellService } from "../services/shell-service.js";
import type { ToolService } from "../services/tools/tool-service.js";
import type { ApprovalService } from "../services/policy/approval-service.js";
import type { AuditLog } from "../services/audit/audit-log.js";
import { mcpPath, mcpRoutes } from "../mcp/mcp-route.js";
import { toolRoutes } from "./tools.js";
import { approvalRoutes } from "./approvals.js";
import { auditRoutes } from "./audit.js";
import type { SandboxService } from "../services/sandbox-service.js";
import type { WorkspaceService } from "../services/workspace-service.js";
import type { TokenService } from "../services/token-service.js";
import type { UserService } from "../services/user-service.js";
import { tokenRoutes } from "./tokens.js";
import { userRoutes } from "./users.js";
import { tokenBoundStreams } from "./token-bound-streams.js";
import { tokenBoundConnections } from "./token-bound-connections.js";
import type { EventService } from "../services/event-service.js";
import type { SecretService } from "../services/secret-service.js";
import type { SessionService } from "../services/session-service.js";
import type { BudgetService } from "../services/budget-service.js";
import type { UsageService } from "../services/usage-service.js";
import type { PreviewService } from "../services/preview-service.js";
import { previewRoutes, type PreviewRoutesOptions } from "./previews.js";
import type { ArtifactService } from "../services/artifact-service.js";
import type { DownloadLinks } from "../services/artifact-downloads.js";
import type { SnapshotService } from "../services/snapshot-service.js";
import { artifactRoutes } from "./artifacts.js";
import { signedDownloadRoute } from "./download-response.js";
import { snapshotRoutes } from "./snapshots.js";
import type { VolumeService } from "../services/volume-service.js";
import { volumeRoutes } from "./volumes.js";
import { imageRoutes } from "./images.js";
import type { ImageService } from "../services/image-service.js";
import { adminUsageRoutes } from "./admin-usage.js";
import { budgetRoutes } from "./budget.js";
import type { ApiEnv } from "./api-env.js";
import { bodyLimits } from "./body-limits.js";
import { toErrorResponse } from "./error-handler.js";
import { serveOpenAPIDocument } from "./openapi-document.js";
import { refuseMalformedURLs } from "./url-check.js";
import { attachRoutes } from "./attach.js";
import { healthRoutes } from "./health.js";
import { execRoutes } from "./exec.js";
import { fileRoutes } from "./files.js";
import { sandboxRoutes } from "./sandboxes.js";
import { shellRoutes } from "./shell.js";
import { workspaceRoutes } from "./workspaces.js";
import { secretRoutes } from "./secrets.js";
import { sessionRoutes } from "./sessions.js";
import { machineDownloadRoutes, type MachineDownloadDependencies } from "./machine-downloads.js";
import { mountE2B } from "../compat/e2b/e2b-routes.js";
import type { AccessTokens } from "../compat/e2b/access-tokens.js";
import { webUIRoutes, type WebUIOptions } from "./web-ui.js";

export interface AppDependencies {
  auth: AuthService;
  sandboxes: SandboxService;
  /** exec, files, shell, artifacts and snapshots come wrapped for the audit trail (services/audit/audited-services.ts). */
  exec: ExecService;
  files: FileService;
  shell: ShellService;
  tools: ToolService;
  approvals: ApprovalService;
  audit: AuditLog;
  /** `[policy] approval_max_wait_seconds` in ms. */
  approvalMaxWaitMs: number;
  workspaces: WorkspaceService;
  tokens: TokenService;
  users: UserService;
  sessions: SessionService;
  events: EventService;
  secrets: SecretService;
  usage: UsageService;
  budget: BudgetService;
  previews: PreviewService;
  previewOptions: PreviewRoutesOptions;
  artifacts: ArtifactService;
  snapshots: SnapshotService;
  volumes: VolumeService;
  downloads: DownloadLinks;
  /** Image builds; absent, the image routes answer 404. */
  images?: ImageService;
  logger: Logger;
  bodyLimitBytes: number;
  stdinLimitBytes: number;
  /** Most bytes of events in one JSON page. */
  eventPageBytes: number;
  version: string;
  /** Served only when the server has a `[server] public_url`. */
  machineDownloads?: MachineDownloadDependencies;
  /** Signs the envd access tokens of E2B's SDK (compat/e2b/). */
  e2bAccessTokens: AccessTokens;
  /** The built web UI, served at `/` (`ciab server`; the Lambda API serves none). */
  webUI?: WebUIOptions;
}

const publicRoutes = new Set(["/api/v1/health", "/api/v1/openapi.json"]);

/** Builds the HTTP app; only main.ts binds a port, so tests call `app.request()` directly. */
export function createApp(dependencies: AppDependencies): OpenAPIHono<ApiEnv> {
  const { auth, logger } = dependencies;
  const app = new OpenAPIHono<ApiEnv>();

  app.onError((error, c) => toErrorResponse(error, c, logger));
  app.notFound((c) => toErrorResponse(new CiabError("not_found", `no route ${c.req.method} ${c.req.path}`), c, logger));

  app.use("*", refuseMalformedURLs());
  const limits = bodyLimits({ jsonBytes: dependencies.bodyLimitBytes, stdinBytes: dependencies.stdinLimitBytes });
  app.use("/api/v1/*", limits);
  app.use(mcpPath, limits);

  app.use("/api/v1/*", async (c, next) => {
    if (publicRoutes.has(c.req.path) || (c.req.method === "GET" && signedDownloadRoute.test(c.req.path))) return next();
    c.set("principal", await auth.authenticate(c.req.header("authorization")));
    return next();
  });
  app.use("/api/v1/*", tokenBoundConnections(auth));
  app.use("/api/v1/*", tokenBoundStreams(auth));

  app.route("/api/v1", healthRoutes(dependencies.version));
  if (dependencies.machineDownloads) app.route("/", machineDownloadRoutes(dependencies.machineDownloads));
  app.route("/api/v1", sandboxRoutes(dependencies.sandboxes, dependencies.volumes));
  app.route("/api/v1", execRoutes(dependencies.exec));
  app.route("/api/v1", attachRoutes());
  app.route("/api/v1", shellRoutes(dependencies.shell));
  app.route("/api/v1", fileRoutes(dependencies.files));
  app.route("/api/v1", workspaceRoutes(dependencies.workspaces));
  app.route("/api/v1", tokenRoutes(dependencies.tokens));
  app.route("/api/v1", userRoutes(dependencies.users));
  app.route("/api/v1", sessionRoutes(dependencies.sessions, dependencies.events, dependencies.eventPageBytes, dependencies.volumes));
  app.route("/api/v1", secretRoutes(dependencies.secrets));
  app.route("/api/v1", adminUsageRoutes(dependencies.usage));
  app.route("/api/v1", budgetRoutes(dependencies.budget));
  app.route("/api/v1", previewRoutes(dependencies.previews, dependencies.previewOptions));
  app.route("/api/v1", artifactRoutes(dependencies.artifacts, dependencies.downloads));
  app.route("/api/v1", snapshotRoutes(dependencies.snapshots, dependencies.downloads));
  app.route("/api/v1", toolRoutes(dependencies.tools, dependencies.shell, dependencies.approvalMaxWaitMs));
  app.route("/api/v1", approvalRoutes(dependencies.approvals, dependencies.tools, dependencies.approvalMaxWaitMs));
  app.route("/api/v1", auditRoutes(dependencies.audit));
  app.route("/", mcpRoutes({ auth, tools: dependencies.tools, version: dependencies.version }));
  app.route("/api/v1", volumeRoutes(dependencies.volumes));
  if (dependencies.images) app.route("/api/v1", imageRoutes(dependencies.images));
  mountE2B(app, {
    auth,
    sandboxes: dependencies.sandboxes,
    exec: dependencies.exec,
    files: dependencies.files,
    accessTokens: dependencies.e2bAccessTokens,
    logger,
    bodyLimitBytes: dependencies.bodyLimitBytes,
  });

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  serveOpenAPIDocument(app, dependencies.version);
  // Last: it answers any GET that no route above took.
  if (dependencies.webUI) app.route("/", webUIRoutes({ ...dependencies.webUI, previewDomain: dependencies.previewOptions.domain }));
  return app;
}
