import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { CiabError } from "@ciab/protocol";
import type { ApiEnv } from "../../api/api-env.js";
import { tokenBoundConnections } from "../../api/token-bound-connections.js";
import type { Logger } from "../../logger.js";
import type { AuthService } from "../../services/auth-service.js";
import type { ExecService } from "../../services/exec-service.js";
import type { FileService } from "../../services/file-service.js";
import type { SandboxService } from "../../services/sandbox-service.js";
import type { AccessTokens } from "./access-tokens.js";
import { readBounded, unaryError } from "./connect-framing.js";
import { asCiabError, e2bErrorBody, e2bStatus } from "./e2b-errors.js";
import { filesystemMethods } from "./envd-filesystem.js";
import { envdHTTPRoutes } from "./envd-http.js";
import { processMethods, type EnvdContext } from "./envd-process.js";
import { restRoutes } from "./rest-routes.js";
import { e2bPrefix, envdPrefix } from "./e2b-paths.js";
import { describeEnvd } from "./envd-openapi.js";

export interface E2BDependencies {
  auth: AuthService;
  sandboxes: SandboxService;
  exec: ExecService;
  files: FileService;
  accessTokens: AccessTokens;
  logger: Logger;
  /** Largest JSON or Connect message, and largest multipart upload (held whole to be parsed). */
  bodyLimitBytes: number;
}

/** `/<package>.<Service>/<Method>` */
const connectCall = /\/[a-z]+\.[A-Z][A-Za-z]*\/[A-Z][A-Za-z]*$/;

type EnvdEnv = ApiEnv & { Variables: { envd: EnvdContext } };

/** A service or method by the name a caller sent: only the record's own, never what its prototype lends (`constructor`). */
function ownEntry<T>(record: Record<string, T> | undefined, name: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, name) ? record[name] : undefined;
}

function answerError(error: unknown, c: Context, logger: Logger): Response {
  const ciabError = asCiabError(error);
  if (ciabError.code === "internal") logger.error({ err: error, path: c.req.path }, "unhandled error");
  return c.json(e2bErrorBody(ciabError), e2bStatus(ciabError) as 400);
}

/**
 * Mounts E2B's REST API and envd's services on the app. REST calls carry a ciab API token as E2B's API key
 * (`X-API-Key`); envd calls carry the access token create and connect hand out (`X-Access-Token`) and name
 * their sandbox in `E2b-Sandbox-Id`. Either way the request is bound to its API token like ours, so a revoke
 * cuts it in flight.
 */
export function mountE2B(app: OpenAPIHono<ApiEnv>, dependencies: E2BDependencies): void {
  const { auth, logger, bodyLimitBytes } = dependencies;

  const rest = restRoutes(dependencies.sandboxes, dependencies.accessTokens);
  rest.onError((error, c) => answerError(error, c, logger));
  const limited = bodyLimit({
    maxSize: bodyLimitBytes,
    onError: () => {
      throw new CiabError("payload_too_large", `the request body is larger than ${bodyLimitBytes} bytes`);
    },
  });
  const bound = tokenBoundConnections(auth);
  app.use(`${e2bPrefix}/*`, async (c, next) => {
    if (c.req.path.startsWith(`${envdPrefix}/`)) return next();
    try {
      await limited(c, async () => {
        c.set("principal", await auth.authenticate(`Bearer ${c.req.header("x-api-key") ?? ""}`));
        await bound(c, next);
      });
    } catch (error) {
      return answerError(error, c, logger);
    }
  });

  const envd = new Hono<EnvdEnv>();
  // A Connect client reads Connect's error shape (`code` a name); envd's HTTP routes answer E2B's.
  envd.onError((error, c) => (connectCall.test(c.req.path) ? unaryError(c, error, logger) : answerError(error, c, logger)));
  envd.use("*", async (c, next) => {
    const grant = await dependencies.accessTokens.verify(c.req.header("x-access-token"), c.req.header("e2b-sandbox-id"));
    c.set("principal", grant.principal);
    c.set("envd", { principal: grant.principal, sandboxID: grant.sandboxID });
    return next();
  });
  envd.use("*", bound as never);

  const http = envdHTTPRoutes(dependencies.sandboxes, dependencies.files, bodyLimitBytes);
  envd.get("/health", (c) => http.health(c, c.var.envd));
  envd.get("/files", (c) => http.download(c, c.var.envd));
  envd.post("/files", (c) => http.upload(c, c.var.envd));

  const services: Record<string, Record<string, (c: Context, context: EnvdContext) => Promise<Response>>> = {
    "process.Process": processMethods(dependencies.exec, bodyLimitBytes, logger),
    "filesystem.Filesystem": filesystemMethods(dependencies.files, bodyLimitBytes, logger),
  };
  envd.post("/:service/:method", async (c) => {
    const method = ownEntry(ownEntry(services, c.req.param("service")), c.req.param("method"));
    if (!method) {
      await readBounded(c, bodyLimitBytes).catch(() => undefined);
      return c.json({ code: "unimplemented", message: `${c.req.param("service")}/${c.req.param("method")} is not served` }, 404);
    }
    return method(c, c.var.envd);
  });

  // Registered last, so it answers only what no route of either router took, in E2B's shape (the app's own
  // not-found answer is ours, which E2B's SDK would show as "[object Object]").
  rest.all("*", (c) => {
    throw new CiabError("not_found", `ciab does not serve ${c.req.method} ${c.req.path} of E2B's API`);
  });
  app.route(envdPrefix, envd as never);
  app.route(e2bPrefix, rest);
  describeEnvd(app);
}
