import path from "node:path";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { Ciab, type ProcessAttachment, type SandboxHandle, type Session } from "../../packages/sdk/src/index.js";
import { startEmulatedEC2, type EmulatedEC2 } from "../harness/aws/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { previewAppSource } from "../previews/preview-app.js";
import { cookieFrom, pathOf, previewRequest, waitForPort } from "../previews/preview-client.js";
import { agentdBundlePath } from "./test-dependencies.js";
import { ec2ServerEnv, freePort } from "./ec2-test-env.js";

/**
 * The tools around a session on ec2, over both agent channels: a preview of a server run in the instance,
 * an interactive pty attached over WebSocket, and the budget loops ending sessions (idle, then past their
 * max runtime), which terminates their instances and drops their sealed keys.
 */
Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });

const appPort = 8080;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const live = (session: Session) => !["completed", "failed", "cancelled"].includes(session.state);

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await sleep(200);
    value = await read();
  }
  return value;
}

let ec2: EmulatedEC2;

beforeAll(async () => {
  ec2 = await startEmulatedEC2({ agentAMI: { agentdBundlePath, nodeBinaryPath: process.execPath } });
}, 180_000);

afterAll(async () => {
  await ec2?.close();
});

async function startEC2Server(channel: "ssh" | "reverse", extra: Record<string, string> = {}): Promise<TestServer> {
  // Instances fetch their sandbox env from the control plane over either channel.
  const port = await freePort();
  const reachable = { CIAB_SERVER_HOST: "127.0.0.1", CIAB_SERVER_PUBLIC_URL: `http://127.0.0.1:${port}` };
  return startTestServer({ port, env: { ...ec2ServerEnv(ec2, channel), CIAB_EC2_INSTANCE_TYPE: "t3.small", ...extra, ...reachable } });
}

function storedMachine(server: TestServer, sandboxID: string): { details: Record<string, unknown> } {
  const database = new Database(path.join(server.dataDirectory, "ciab.db"), { readonly: true });
  try {
    const row = database.prepare("select machine from sandboxes where id = ?").get(sandboxID) as { machine: string };
    return JSON.parse(row.machine) as { details: Record<string, unknown> };
  } finally {
    database.close();
  }
}

/** The session's own sandbox ended for `reason`: its instance terminated, its container gone, its sealed key dropped. */
async function expectSandboxGone(server: TestServer, ciab: Ciab, sandboxID: string, reason: string): Promise<void> {
  const ended = await waitFor(() => ciab.sandboxes.get(sandboxID), (found) => found.info.state === "terminated", 20_000);
  expect(ended.info).toMatchObject({ state: "terminated", end_reason: reason });
  const found = await ec2.aws.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:ciab-sandbox-id", Values: [sandboxID] }] }));
  const instanceID = found.Reservations![0]!.Instances![0]!.InstanceId!;
  const after = await ec2.aws.send(new DescribeInstancesCommand({ InstanceIds: [instanceID] }));
  expect(after.Reservations![0]!.Instances![0]!.State?.Name).toBe("terminated");
  await ec2.player.waitFor(instanceID, (played) => played.container === undefined, 30_000);
  const details = storedMachine(server, sandboxID).details;
  expect(details).toMatchObject({ instanceID });
  expect(details.sealedPrivateKey).toBeUndefined();
}

describe.each(["ssh", "reverse"] as const)("tools on ec2 over the %s channel", (channel) => {
  let server: TestServer;
  let ciab: Ciab;
  let sandbox: SandboxHandle;

  beforeAll(async () => {
    server = await startEC2Server(channel);
    ciab = new Ciab({ url: server.url, token: server.token });
    sandbox = await ciab.sandboxes.create({ runtime: "ec2", env: { PS1: "ec2-sandbox> ", GREETING: "hello from the sandbox env" } });
  }, 120_000);

  afterAll(async () => {
    await sandbox?.delete().catch(() => undefined);
    await server?.close();
  });

  test("a server in the instance is reachable through its preview URL, over HTTP and WebSocket", async () => {
    await sandbox.files.write("/workspace/app.js", previewAppSource);
    const session = await ciab.sessions.create({ provider: "shell", sandbox_id: sandbox.id, prompt: `exec /opt/ciab/bin/node /workspace/app.js ${appPort}` });
    const url = (await waitForPort(ciab, session.id, appPort, 30_000)).url;
    expect(pathOf(url)).toMatch(new RegExp(`^/sandbox/preview/${session.id}/${appPort}/\\?token=`));

    const first = await previewRequest(server.url, pathOf(url));
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe(`/sandbox/preview/${session.id}/${appPort}/`);
    const cookie = cookieFrom(first.headers, "ciab_preview")!;
    const page = await previewRequest(server.url, first.headers.location!, { headers: { cookie } });
    expect({ status: page.status, body: page.body.toString() }).toMatchObject({ status: 200, body: expect.stringContaining("hello preview") });
    const css = await previewRequest(server.url, `${first.headers.location}style.css`, { headers: { cookie } });
    expect(css.body.toString()).toContain("teal");

    const socket = new WebSocket(`${server.url.replace(/^http/, "ws")}/sandbox/preview/${session.id}/${appPort}/socket`, { headers: { cookie } });
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
      socket.once("unexpected-response", (_request, response) => reject(new Error(`status ${response.statusCode}`)));
    });
    const echoed = await new Promise<string>((resolve) => {
      socket.once("message", (data) => resolve(String(data)));
      socket.send("through the instance");
    });
    expect(echoed).toBe("through the instance");
    await new Promise((resolve) => (socket.once("close", resolve), socket.close()));

    await ciab.sessions.cancel(session.id);
    await waitFor(() => ciab.sessions.get(session.id), (ended) => !live(ended), 15_000);
  }, 60_000);

  test("an interactive shell on a pty, attached over WebSocket, has the sandbox's prompt and env and echoes what is typed", async () => {
    const started = await sandbox.processes.start(["bash", "--norc", "--noprofile", "-i"], { pty: { cols: 80, rows: 24 } });
    const attachment: ProcessAttachment = await sandbox.processes.attach(started.pid);
    let text = "";
    const reading = (async () => {
      for await (const chunk of attachment.output) text += chunk.toString();
    })();
    const until = async (pattern: RegExp) => {
      for (let attempt = 0; attempt < 100 && !pattern.test(text); attempt += 1) await sleep(100);
      expect(text).toMatch(pattern);
    };
    await until(/ec2-sandbox> $/);
    attachment.write('echo "[$GREETING]"\r');
    // The typed line is echoed by the terminal with the variable's name; the command's output has its value.
    await until(/\[hello from the sandbox env\]\r\n/);
    attachment.write("exit 3\r");
    expect(await attachment.exited).toEqual({ exit_code: 3, signal: null });
    await reading;
  }, 30_000);

  test("an unattended interactive session ends with idle_timeout, a busy one with max_runtime; both instances are terminated", async () => {
    // 6 s of idleness (a busy session's output can stall for seconds on a loaded host), 72 s of life (a boot
    // alone took over 45 s there, with other files booting instances too): the idle session goes first, the
    // busy one (never idle) at max runtime.
    const budgetServer = await startEC2Server(channel, {
      CIAB_SESSION_IDLE_TIMEOUT: "6",
      CIAB_EC2_MAX_RUNTIME_MINUTES: "1.2",
      CIAB_BUDGET_ENFORCE_INTERVAL_SECONDS: "0.3",
    });
    try {
      const budgetCiab = new Ciab({ url: budgetServer.url, token: budgetServer.token });
      const idle = await budgetCiab.sessions.create({ provider: "shell", runtime: "ec2" });
      const busy = await budgetCiab.sessions.create({ provider: "shell", runtime: "ec2", prompt: "while :; do echo tick; sleep 0.3; done" });

      const reaped = await waitFor(() => budgetCiab.sessions.get(idle.id), (session) => !live(session), 70_000);
      expect(reaped, JSON.stringify(reaped)).toMatchObject({ state: "cancelled", end_reason: "idle_timeout", mode: "interactive" });
      expect((await budgetCiab.sessions.get(busy.id)).state).toBe("running");
      await expectSandboxGone(budgetServer, budgetCiab, reaped.sandbox_id!, "idle_timeout");

      const killed = await waitFor(() => budgetCiab.sessions.get(busy.id), (session) => !live(session), 80_000);
      expect(killed, JSON.stringify(killed)).toMatchObject({ state: "failed", end_reason: "max_runtime", failure: { reason: "max_runtime" } });
      await expectSandboxGone(budgetServer, budgetCiab, killed.sandbox_id!, "max_runtime");
    } finally {
      await budgetServer.close();
    }
  }, 200_000);
});
