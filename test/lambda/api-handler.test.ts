import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand } from "@aws-sdk/client-ec2";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createAPIHandler, originSecretHeader, type APIHandler } from "../../packages/server/src/lambda/api-handler.js";
import { createProvisionHandler } from "../../packages/server/src/lambda/provision-handler.js";
import { createScheduledHandler } from "../../packages/server/src/lambda/scheduled-handler.js";
import { newID } from "../../packages/server/src/ids.js";
import { createStore } from "../../packages/server/src/store/create-store.js";
import type { Store } from "../../packages/server/src/store/store.js";
import { loadLambdaConfig } from "../../packages/server/src/lambda/lambda-control-plane.js";
import type { SessionRecord } from "../../packages/server/src/store/records.js";
import { harnessEC2Client, prepareECS, startMoto, type Moto } from "../harness/aws/index.js";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { answerOf, frontDoors, lambdaEvent, type FrontDoor, type RequestShape } from "./lambda-events.js";

// The three Lambdas invoked in-process, as the Lambda runtime would, with recorded event shapes of each
// front door, on the DynamoDB store in moto; sandboxes are fargate tasks on moto's ECS (no task player: they stay starting, which is all
// the API Lambda can see of them: agentd's channel needs the long-running server).
Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });

const cluster = "ciab-lambda";
const publicURL = "https://ciab.example.test";
let moto: Moto;
let temp: ReturnType<typeof makeTempDirectory>;
let env: NodeJS.ProcessEnv;
let api: APIHandler;
let token: string;

async function call(door: FrontDoor, request: RequestShape) {
  const headers = { authorization: `Bearer ${token}`, ...request.headers };
  return answerOf(await api(lambdaEvent(door, { ...request, headers })));
}

beforeAll(async () => {
  moto = await startMoto();
  await prepareECS(moto.endpoint, { cluster, family: "ciab-agent", image: "ciab/agent:lambda-test" });
  const ec2 = harnessEC2Client(moto.endpoint);
  const subnets = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets!.map((subnet) => subnet.SubnetId!);
  const groups = (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!.map((group) => group.GroupId!);
  ec2.destroy();
  temp = makeTempDirectory("ciab-lambda-");
  const s3 = new S3Client({ region: "us-east-1", endpoint: moto.endpoint, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: "ciab-lambda-artifacts" }));
  s3.destroy();
  env = {
    CIAB_SERVER_DATA_DIR: temp.path,
    CIAB_RUNTIME_TOOLS_DIR: path.join(temp.path, "tools"),
    CIAB_SERVER_LOG_LEVEL: "silent",
    CIAB_SERVER_PUBLIC_URL: publicURL,
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
    CIAB_DATA_KEY_SECRET_ARN: await createSecret("ciab-test-data-key", randomBytes(32).toString("hex")),
    CIAB_STORE_DRIVER: "dynamodb",
    CIAB_STORE_TABLE: "ciab-lambda-test",
    CIAB_STORE_REGION: "us-east-1",
    CIAB_STORE_ENDPOINT: moto.endpoint,
    CIAB_STORE_CREATE_TABLE: "true",
    CIAB_ARTIFACTS_BACKEND: "s3",
    CIAB_ARTIFACTS_S3_BUCKET: "ciab-lambda-artifacts",
    CIAB_ARTIFACTS_S3_ENDPOINT: moto.endpoint,
    CIAB_RUNTIME_ENABLED: "fargate",
    CIAB_RUNTIME_BACKEND: "fargate",
    CIAB_RUNTIME_FARGATE_ENDPOINT: moto.endpoint,
    CIAB_RUNTIME_FARGATE_CLUSTER: cluster,
    CIAB_RUNTIME_FARGATE_TASK_DEFINITION: "ciab-agent",
    CIAB_RUNTIME_FARGATE_SUBNETS: subnets[0]!,
    CIAB_RUNTIME_FARGATE_SECURITY_GROUPS: groups[0]!,
  };
  const provisioned = await createProvisionHandler({ env })({ action: "provision" });
  if (!("token" in provisioned)) throw new Error(`provisioning failed: ${JSON.stringify(provisioned)}`);
  token = provisioned.token;
  api = createAPIHandler({ env, streamWindow: { idleMs: 200, totalMs: 2_000, retryMs: 1_000 } });
}, 120_000);

afterAll(async () => {
  await api?.close();
  await moto?.stop();
  temp?.remove();
});

describe("the API Lambda", () => {
  test("creates a fargate sandbox through one front door and lists and reads it through every other", async () => {
    const created = await call("api-gateway-v2", {
      method: "POST",
      path: "/api/v1/sandboxes",
      query: "wait=false",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ runtime: "fargate", name: "from-lambda", tags: { via: "api-gateway" } }),
    });
    expect(created.status, created.body).toBe(202);
    const sandbox = created.json();
    expect(sandbox).toMatchObject({ runtime: "fargate", state: "provisioning", name: "from-lambda" });

    for (const door of frontDoors) {
      const listed = await call(door, { path: "/api/v1/sandboxes", query: "tag=via%3Aapi-gateway&all=true" });
      expect(listed.status, `${door}: ${listed.body}`).toBe(200);
      expect(listed.json().sandboxes.map((item: { id: string }) => item.id)).toEqual([sandbox.id]);
      const got = await call(door, { path: `/api/v1/sandboxes/${sandbox.id}`, headers: { accept: "text/html,application/json;q=0.9" } });
      expect(got.json()).toMatchObject({ id: sandbox.id, runtime: "fargate" });
    }
  });

  test("a base64 body, cookies and a query string come through as the front doors send them", async () => {
    const created = await call("cloudfront-function-url", {
      method: "POST",
      path: "/api/v1/sandboxes",
      query: "wait=false",
      headers: { "content-type": "application/json" },
      cookies: ["theme=dark", "session=abc"],
      body: JSON.stringify({ runtime: "fargate", name: "base64-body", tags: { via: "cloudfront" } }),
      base64: true,
    });
    expect(created.status, created.body).toBe(202);
    expect(created.json()).toMatchObject({ name: "base64-body", tags: { via: "cloudfront" } });
    const listed = await call("function-url", { path: "/api/v1/sandboxes", query: "tag=via%3Acloudfront" });
    expect(listed.json().sandboxes.map((item: { name: string }) => item.name)).toEqual(["base64-body"]);
    const both = await call("function-url", { path: "/api/v1/sandboxes", query: "tag=via%3Acloudfront&tag=missing" });
    expect(both.json().sandboxes).toEqual([]);
  });

  test("reads a session's events as a JSON page, and as the event stream stored so far with a retry", async () => {
    const store = await createStore(loadLambdaConfig(env).store, temp.path, env);
    const session = await recordSession(store);
    const page = await call("function-url", { path: `/api/v1/sessions/${session.id}/events`, query: "after=1" });
    expect(page.status, page.body).toBe(200);
    expect(page.json()).toMatchObject({ events: [{ seq: 2, type: "agent.message" }], next_after: 2 });

    const started = performance.now();
    const stream = await call("cloudfront-function-url", {
      path: `/api/v1/sessions/${session.id}/events`,
      headers: { accept: "text/event-stream", "last-event-id": "1" },
    });
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(stream.status).toBe(200);
    expect(stream.headers["content-type"]).toMatch(/text\/event-stream/);
    expect(stream.body).toMatch(/^id: 2\n/m);
    expect(stream.body).not.toMatch(/^id: 1\n/m);
    expect(stream.body.endsWith("retry: 1000\n\n")).toBe(true);
    await store.close();
  });

  test("what a Lambda cannot hold answers requires_server (501), and a body over 6 MB payload_too_large", async () => {
    const refused: RequestShape[] = [
      { path: "/api/v1/sandboxes/sbx_x/processes/1/attach", headers: { upgrade: "websocket", connection: "Upgrade" } },
      { path: "/api/v1/sessions/ses_x/attach" },
      { path: "/sandbox/preview/ses_0123456789abcdef/8080/" },
      { path: "/agent-channel/sbx_x" },
      { method: "POST", path: "/api/v1/sandboxes/sbx_x/exec/stream", headers: { "content-type": "application/json" }, body: "{}" },
      { method: "POST", path: "/api/v1/sessions", headers: { "content-type": "application/json" }, body: JSON.stringify({ provider: "shell", prompt: "true" }) },
      { method: "POST", path: "/api/v1/images/build", headers: { "content-type": "application/json" }, body: "{}" },
    ];
    for (const request of refused) {
      const answer = await call("function-url", request);
      expect([request.path, answer.status, answer.json().error.code]).toEqual([request.path, 501, "requires_server"]);
    }
    const big = await call("api-gateway-v2", {
      method: "POST",
      path: "/api/v1/sandboxes",
      headers: { "content-type": "application/json" },
      body: Buffer.alloc(6 * 1024 * 1024 + 1, 0x20),
      base64: true,
    });
    expect([big.status, big.json().error.code]).toEqual([413, "payload_too_large"]);
  });

  test("malformed events get a typed 400, never a crash", async () => {
    const valid = lambdaEvent("function-url", { path: "/api/v1/health" });
    const broken: unknown[] = [
      null,
      "GET /",
      {},
      { ...valid, version: "1.0" },
      { ...valid, rawPath: "no-slash" },
      { ...valid, requestContext: { ...(valid.requestContext as object), domainName: "evil host/" } },
      { ...valid, requestContext: { ...(valid.requestContext as object), http: { method: "TRACE" } } },
      { ...valid, headers: { accept: 7 } },
      { ...valid, body: "a body on a GET" },
    ];
    for (const event of broken) {
      const answer = answerOf(await api(event));
      expect([answer.status, answer.json().error.code]).toEqual([400, "invalid_request"]);
    }
    expect(answerOf(await api(valid)).status).toBe(200);
  });

  test("no token is refused, and another workspace's sandbox is not found, as on the server", async () => {
    const none = answerOf(await api(lambdaEvent("api-gateway-v2", { path: "/api/v1/sandboxes" })));
    expect([none.status, none.json().error.code]).toEqual([401, "unauthorized"]);
    const mine = (await call("function-url", { path: "/api/v1/sandboxes" })).json().sandboxes[0];
    const other = await call("function-url", {
      method: "POST",
      path: "/api/v1/workspaces",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "other-team", role: "member" }),
    });
    expect(other.status, other.body).toBe(201);
    const outsider = { authorization: `Bearer ${other.json().token}` };
    const seen = answerOf(await api(lambdaEvent("cloudfront-function-url", { path: `/api/v1/sandboxes/${mine.id}`, headers: outsider })));
    expect([seen.status, seen.json().error.code]).toEqual([404, "sandbox_not_found"]);
    const listed = answerOf(await api(lambdaEvent("api-gateway-v2", { path: "/api/v1/sandboxes", headers: outsider })));
    expect(listed.json().sandboxes).toEqual([]);
  });
});

describe("cold starts", () => {
  test("a host runtime or a missing data key is a config error at cold start, and the next event tries again", async () => {
    const local = createAPIHandler({ env: { ...env, CIAB_RUNTIME_ENABLED: "local,fargate" } });
    await expect(local(lambdaEvent("function-url", { path: "/api/v1/health" }))).rejects.toMatchObject({ code: "invalid_request", message: /local/ });
    await expect(local(lambdaEvent("function-url", { path: "/api/v1/health" }))).rejects.toMatchObject({ message: /local/ });
    const localArtifacts = createAPIHandler({ env: { ...env, CIAB_ARTIFACTS_BACKEND: "local" } });
    await expect(localArtifacts(lambdaEvent("function-url", { path: "/api/v1/health" }))).rejects.toMatchObject({ code: "invalid_request", message: /own \/tmp/ });
    const keyless = createAPIHandler({ env: { ...env, CIAB_DATA_KEY_SECRET_ARN: undefined } });
    await expect(keyless(lambdaEvent("function-url", { path: "/api/v1/health" }))).rejects.toMatchObject({ message: /CIAB_DATA_KEY_SECRET_ARN/ });
    const unreadable = createAPIHandler({ env: { ...env, CIAB_DATA_KEY_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf" } });
    await expect(unreadable(lambdaEvent("function-url", { path: "/api/v1/health" }))).rejects.toMatchObject({ message: /cannot read secret/ });
  });
});

describe("the origin secret", () => {
  test("with CIAB_ORIGIN_VERIFY_SECRET_ARN set, only events carrying its secret (CloudFront's origin header) are answered", async () => {
    const arn = await createSecret("ciab-test-origin-verify", "s3cret-between-cloudfront-and-lambda");
    const guarded = createAPIHandler({ env: { ...env, CIAB_ORIGIN_VERIFY_SECRET_ARN: arn } });
    try {
      const direct = answerOf(await guarded(lambdaEvent("function-url", { path: "/api/v1/health" })));
      expect([direct.status, direct.json().error.code]).toEqual([403, "forbidden"]);
      const wrong = answerOf(await guarded(lambdaEvent("cloudfront-function-url", { path: "/api/v1/health", headers: { [originSecretHeader]: "guess" } })));
      expect(wrong.status).toBe(403);
      const through = answerOf(
        await guarded(lambdaEvent("cloudfront-function-url", { path: "/api/v1/health", headers: { [originSecretHeader]: "s3cret-between-cloudfront-and-lambda" } })),
      );
      expect(through.status, through.body).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});

describe("the scheduled Lambda", () => {
  test("runs one bounded pass of each loop and leaves a sandbox another container is starting alone", async () => {
    const scheduled = createScheduledHandler({ env });
    try {
      const report = await scheduled({ source: "aws.events", "detail-type": "Scheduled Event" }, { getRemainingTimeInMillis: () => 60_000 });
      expect(report.passes.reconciler).toMatchObject({ ok: true, result: { lost: [], finished: [] } });
      expect(report.passes["sandbox-lifetimes"]).toMatchObject({ ok: true });
      expect(report.passes["cost-accrual"]).toMatchObject({ ok: true });
      expect(report.passes["idle-reaper"]).toMatchObject({ skipped: expect.stringMatching(/long-running server/) });
      const late = await scheduled({}, { getRemainingTimeInMillis: () => 1_000 });
      expect(Object.values(late.passes).every((pass) => "skipped" in pass)).toBe(true);
      await expect(scheduled("not an event")).rejects.toMatchObject({ code: "invalid_request" });
    } finally {
      await scheduled.close();
    }
  });
});

describe("the provisioning Lambda", () => {
  test("provisions once, answers its status, and refuses what it does not know", async () => {
    const provision = createProvisionHandler({ env });
    expect(await provision({ action: "provision" })).toMatchObject({ error: { code: "already_exists" } });
    expect(await provision({ action: "status" })).toMatchObject({ provisioned: true, installation_id: expect.any(String) });
    expect(existsSync(path.join(temp.path, "ciab.db")), "everything is in the DynamoDB table").toBe(false);
    expect(await provision({ action: "drop_table" })).toMatchObject({ error: { code: "invalid_request" } });
    expect(await provision(null)).toMatchObject({ error: { code: "invalid_request" } });
  });
});

async function createSecret(name: string, value: string): Promise<string> {
  const client = new SecretsManagerClient({ region: "us-east-1", endpoint: moto.endpoint });
  try {
    return (await client.send(new CreateSecretCommand({ Name: name, SecretString: value }))).ARN!;
  } finally {
    client.destroy();
  }
}

async function recordSession(store: Store): Promise<SessionRecord> {
  const workspace = (await store.workspaces.list({ limit: 1 }))[0]!;
  const at = new Date().toISOString();
  const session: SessionRecord = {
    id: newID("ses"),
    workspaceID: workspace.id,
    sandboxID: null,
    ownsSandbox: false,
    keepSandbox: false,
    provider: "shell",
    prompt: "true",
    model: null,
    repo: null,
    sealedRepoURL: null,
    sealedEnv: "sealed",
    envKeys: [],
    sandboxRequest: {},
    state: "running",
    exitCode: null,
    failureReason: null,
    failureMessage: null,
    processPID: null,
    stdoutOffset: 0,
    gatewayTokenHash: null,
    inputTokens: 0,
    outputTokens: 0,
    costUSD: 0,
    createdAt: at,
    updatedAt: at,
    startedAt: at,
    endedAt: null,
    userID: "system",
    endReason: null,
    usdPerHour: 0,
  };
  await store.sessions.create(session);
  await store.events.append([
    { seq: 1, session_id: session.id, type: "session.state.changed", data: { state: "running" }, created_at: at },
    { seq: 2, session_id: session.id, type: "agent.message", data: { text: "hello from the agent" }, created_at: at },
  ]);
  return session;
}
