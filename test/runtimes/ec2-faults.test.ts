import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { DescribeInstancesCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startEmulatedEC2, startFaultEndpoint, type EmulatedEC2 } from "../harness/aws/index.js";
import { startServerProcess } from "../harness/server-process.js";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { agentdBundlePath } from "./test-dependencies.js";
import { ec2ServerEnv } from "./ec2-test-env.js";

/**
 * What goes wrong with EC2, through the API: AWS refusals become the sandbox's failure with AWS's own code,
 * lost instances fail their sandbox, and in every case no instance of the sandbox is left running.
 */
Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });

let ec2: EmulatedEC2;
const servers: TestServer[] = [];
/** Run after the servers close: data dirs the tests made themselves. */
const removals: (() => void)[] = [];

function ec2Env(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...ec2ServerEnv(ec2, "ssh"),
    CIAB_RUNTIME_EC2_INSTANCE_READY_TIMEOUT_SECS: "20",
    CIAB_RUNTIME_EC2_SSH_TIMEOUT_SECS: "60",
    ...overrides,
  };
}

async function server(overrides: Record<string, string> = {}, dataDirectory?: string): Promise<TestServer> {
  const started = await startTestServer({ env: ec2Env(overrides), ...(dataDirectory !== undefined && { dataDirectory }) });
  servers.push(started);
  return started;
}

/** Instances of a sandbox that are not terminated (or on their way). */
async function liveInstancesOf(sandboxID: string): Promise<string[]> {
  const output = await ec2.aws.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: "tag:ciab-sandbox-id", Values: [sandboxID] },
        { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped"] },
      ],
    }),
  );
  return (output.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []).map((instance) => instance.InstanceId!);
}

/** Every live instance ciab manages in moto, of any test's server. */
async function liveManagedInstances(): Promise<string[]> {
  const output = await ec2.aws.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: "tag:ciab-managed", Values: ["true"] },
        { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped"] },
      ],
    }),
  );
  return (output.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []).map((instance) => instance.InstanceId!);
}

/** The one sandbox a failed create left, as the API shows it. */
async function onlySandbox(ciab: TestServer) {
  const { body } = await ciab.api("GET", "/sandboxes?all=true");
  expect(body.sandboxes).toHaveLength(1);
  return body.sandboxes[0];
}

beforeAll(async () => {
  ec2 = await startEmulatedEC2({ agentAMI: { agentdBundlePath, nodeBinaryPath: process.execPath } });
}, 180_000);

afterAll(async () => {
  for (const started of servers) await started.close().catch(() => undefined);
  for (const remove of removals) remove();
  await ec2?.close();
});

describe("AWS refusals become the sandbox's failure, keeping AWS's code", () => {
  // A missing image leaves nothing to destroy, so its record ends at once (terminated) with the failure kept.
  test.each<{ name: string; env: Record<string, string>; image: string | undefined; awsCode: string; state: string }>([
    { name: "a missing subnet", env: { CIAB_EC2_SUBNET_ID: "subnet-0123456789abcdef0" }, image: undefined, awsCode: "InvalidSubnetID.NotFound", state: "failed" },
    { name: "an AMI that does not exist", env: {}, image: "ami-0000000000000dead", awsCode: "InvalidAMIID.NotFound", state: "terminated" },
  ])("$name", async ({ env, image, awsCode, state }) => {
    const ciab = await server(env);
    const created = await ciab.api("POST", "/sandboxes", image === undefined ? {} : { image });
    expect(created.status).toBeGreaterThanOrEqual(400);
    const sandbox = await onlySandbox(ciab);
    expect(sandbox).toMatchObject({ state, failure: { aws_code: awsCode } });
    expect(await liveInstancesOf(sandbox.id)).toEqual([]);
  });

  test("credentials refused: AuthFailure from an endpoint that answers 403", async () => {
    const endpoint = await startFaultEndpoint(ec2.moto.endpoint, () => ({
      kind: "refuse",
      status: 401,
      code: "AuthFailure",
      message: "AWS was not able to validate the provided access credentials",
    }));
    try {
      const ciab = await server({ CIAB_EC2_ENDPOINT: endpoint.endpoint });
      const created = await ciab.api("POST", "/sandboxes", {});
      expect(created.body.error).toMatchObject({ code: "sandbox_failed", context: { aws_code: "AuthFailure" } });
      const sandbox = await onlySandbox(ciab);
      expect(sandbox.failure).toMatchObject({ reason: "provision_failed", aws_code: "AuthFailure" });
      expect(sandbox.failure.message).toContain("AuthFailure");
      expect(await liveInstancesOf(sandbox.id)).toEqual([]);
    } finally {
      await endpoint.close();
    }
  });

  test("a region that does not exist", async () => {
    const ciab = await server({ CIAB_RUNTIME_EC2_REGION: "xx-nowhere-1" });
    const created = await ciab.api("POST", "/sandboxes", {});
    expect(created.status).toBeGreaterThanOrEqual(400);
    const sandbox = await onlySandbox(ciab);
    expect(sandbox.state).toBe("failed");
    expect(sandbox.failure.message).toContain("in xx-nowhere-1");
    expect(await liveInstancesOf(sandbox.id)).toEqual([]);
  });

  test("the endpoint dies during RunInstances: a retryable failure, nothing launched", async () => {
    const endpoint = await startFaultEndpoint(ec2.moto.endpoint, (action) => (action === "RunInstances" ? { kind: "drop" } : { kind: "forward" }));
    try {
      const ciab = await server({ CIAB_EC2_ENDPOINT: endpoint.endpoint });
      const created = await ciab.api("POST", "/sandboxes", {});
      expect(created.body.error.code).toBe("sandbox_failed");
      const sandbox = await onlySandbox(ciab);
      expect(sandbox.failure.reason).toBe("provision_failed");
      expect(endpoint.actions.filter((action) => action === "RunInstances").length).toBeGreaterThanOrEqual(1);
      expect(await liveInstancesOf(sandbox.id)).toEqual([]);
    } finally {
      await endpoint.close();
    }
  });
});

const cliPath = path.join(import.meta.dirname, "..", "..", "packages", "cli", "bin", "ciab.mjs");

async function terminateBehindOurBack(sandboxID: string): Promise<string> {
  const [instanceID] = await liveInstancesOf(sandboxID);
  await ec2.aws.send(new TerminateInstancesCommand({ InstanceIds: [instanceID!] }));
  await ec2.player.waitFor(instanceID!, (instance) => instance.container === undefined, 30_000);
  return instanceID!;
}

describe("machines lost and machines that never answer", () => {
  test("console output flows through API, SDK and CLI; an instance terminated behind our back is machine_lost", async () => {
    const ciab = await server();
    const client = new Ciab({ url: ciab.url, token: ciab.token });
    const sandbox = await client.sandboxes.create({});
    expect(await sandbox.consoleOutput()).toContain("Linux version");
    const { stdout } = await promisify(execFile)(process.execPath, [cliPath, "--url", ciab.url, "--token", ciab.token, "sandbox", "logs", "--console", sandbox.id]);
    expect(stdout).toContain("BIOS-provided physical RAM map");

    await terminateBehindOurBack(sandbox.id);
    const exec = await ciab.api("POST", `/sandboxes/${sandbox.id}/exec`, { command: ["true"] });
    expect(exec.body.error).toMatchObject({ code: "sandbox_failed", context: { reason: "machine_lost" } });
    expect((await sandbox.refresh()).failure).toMatchObject({ reason: "machine_lost" });
  }, 120_000);

  test("console output is capability_unsupported on a runtime without a console", async () => {
    const local = await startTestServer();
    servers.push(local);
    const created = await local.api("POST", "/sandboxes", { runtime: "local" });
    expect(created.status).toBe(201);
    const answer = await local.api("GET", `/sandboxes/${created.body.id}/console`);
    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe("capability_unsupported");
  });

  test("agentd never answering over SSH is agent_unreachable, and the instance is terminated", async () => {
    const ciab = await server({ CIAB_RUNTIME_EC2_BASTION_PORT: "1", CIAB_RUNTIME_EC2_SSH_TIMEOUT_SECS: "2" });
    const created = await ciab.api("POST", "/sandboxes", {});
    expect(created.body.error.code).toBe("sandbox_failed");
    const sandbox = await onlySandbox(ciab);
    expect(sandbox.failure.reason).toBe("agent_unreachable");
    expect(await liveInstancesOf(sandbox.id)).toEqual([]);
  }, 60_000);

  test("a control plane killed during RunInstances leaves no instance past the next reconcile", async () => {
    let launched!: () => void;
    const forwarded = new Promise<void>((resolve) => (launched = resolve));
    const endpoint = await startFaultEndpoint(ec2.moto.endpoint, (action) =>
      action === "RunInstances" ? { kind: "hold", onForwarded: () => launched() } : { kind: "forward" },
    );
    const data = makeTempDirectory("ciab-ec2-kill-");
    removals.push(data.remove);
    const before = new Set(await liveManagedInstances());
    try {
      const child = await startServerProcess(data.path, ec2Env({ CIAB_EC2_ENDPOINT: endpoint.endpoint, CIAB_SERVER_RECONCILE_INTERVAL_SECONDS: "0" }));
      const creating = fetch(`${child.url}/api/v1/sandboxes`, {
        method: "POST",
        headers: { authorization: `Bearer ${child.token}`, "content-type": "application/json" },
        body: "{}",
      }).catch(() => undefined);
      await forwarded;
      await child.kill("SIGKILL");
      await creating;
      const launched = (await liveManagedInstances()).filter((instanceID) => !before.has(instanceID));
      expect(launched).toHaveLength(1);

      const restarted = await server({ CIAB_SERVER_ORPHAN_GRACE_SECONDS: "0" }, data.path);
      const sandbox = await onlySandbox(restarted);
      expect(sandbox.failure.reason).toBe("provision_interrupted");
      expect(await liveInstancesOf(sandbox.id)).toEqual([]);
      expect(await liveManagedInstances()).not.toContain(launched[0]);
    } finally {
      await endpoint.close();
    }
  }, 90_000);

  test("with spot, a session retries once on a new instance, then fails with spot_interrupted", async () => {
    const ciab = await server({ CIAB_EC2_SPOT: "true" });
    const client = new Ciab({ url: ciab.url, token: ciab.token });
    const session = await client.sessions.create({ provider: "shell", prompt: "echo started; sleep 600" });
    const first = await runningOn(client, session.id);
    await terminateBehindOurBack(first);
    const second = await runningOn(client, session.id, first);
    await terminateBehindOurBack(second);

    const deadline = Date.now() + 60_000;
    let ended = await client.sessions.get(session.id);
    while (ended.state !== "failed" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      ended = await client.sessions.get(session.id);
    }
    expect(ended.failure).toMatchObject({ reason: "spot_interrupted" });
    for (const id of [first, second]) {
      expect((await ciab.api("GET", `/sandboxes/${id}`)).body.failure.reason).toBe("spot_interrupted");
      expect(await liveInstancesOf(id)).toEqual([]);
    }
  }, 180_000);

  test("a spot session resumed by a restarted control plane still retries once on a new instance", async () => {
    const data = makeTempDirectory("ciab-ec2-spot-restart-");
    removals.push(data.remove);
    const before = await startTestServer({ env: ec2Env({ CIAB_EC2_SPOT: "true" }), dataDirectory: data.path });
    const session = await new Ciab({ url: before.url, token: before.token }).sessions.create({ provider: "shell", prompt: "echo started; sleep 600" });
    const first = await runningOn(new Ciab({ url: before.url, token: before.token }), session.id);
    // Stopped, not closed: the session and its instance outlive this control plane.
    await before.server.close();

    const after = await server({ CIAB_EC2_SPOT: "true" }, data.path);
    const client = new Ciab({ url: after.url, token: after.token });
    await terminateBehindOurBack(first);
    const second = await runningOn(client, session.id, first);
    expect((await after.api("GET", `/sandboxes/${first}`)).body.failure.reason).toBe("spot_interrupted");
    await client.sessions.cancel(session.id);
    expect(await liveInstancesOf(first)).toEqual([]);
    await waitUntil(async () => (await liveInstancesOf(second)).length === 0, 60_000);
  }, 180_000);
});

describe("scripts/smoke-ec2.ts", () => {
  const scriptPath = path.join(import.meta.dirname, "..", "..", "scripts", "smoke-ec2.ts");
  const run = (env: Record<string, string | undefined>) =>
    promisify(execFile)(process.execPath, ["--import", "tsx", scriptPath], { env: env as NodeJS.ProcessEnv, timeout: 120_000 });

  test("skips with exit 0 when the credential chain finds nothing", async () => {
    const { AWS_ACCESS_KEY_ID: _key, AWS_SECRET_ACCESS_KEY: _secret, ...rest } = process.env;
    const { stdout } = await run({ ...rest, AWS_SHARED_CREDENTIALS_FILE: "/nonexistent", AWS_CONFIG_FILE: "/nonexistent", AWS_PROFILE: undefined });
    expect(stdout).toContain("skipped, no AWS credentials found");
  });

  test("pointed at the emulation: creates, runs uname -a, deletes, and finds no instance left", async () => {
    const { stdout } = await run({ ...process.env, ...ec2Env() });
    expect(stdout).toMatch(/uname -a: Linux .*\(exit 0\)/);
    expect(stdout).toContain("no instance left with tag ciab-sandbox-id=");
    expect(stdout).toContain("smoke-ec2: ok");
  }, 120_000);
});

/** The session's sandbox once it runs on one other than `previous`; fails fast if the session fails. */
async function runningOn(client: Ciab, sessionID: string, previous?: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const current = await client.sessions.get(sessionID);
    if (current.state === "running" && current.sandbox_id && current.sandbox_id !== previous) return current.sandbox_id;
    expect(current.state).not.toBe("failed");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`session ${sessionID} did not run on a new sandbox within 60 s`);
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not so within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
