import path from "node:path";
import { DescribeInstanceAttributeCommand, DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startEmulatedEC2, type EmulatedEC2 } from "../harness/aws/index.js";
import { startModelServer } from "../harness/model-server/model-server.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { agentdBundlePath } from "./test-dependencies.js";
import { ec2ServerEnv, freePort } from "./ec2-test-env.js";
import { dialChannel } from "../harness/reverse-channel-dial.js";

/**
 * A session on ec2, end to end, over each agent channel: the server launches an instance in moto, the player
 * boots it with cloud-init, a real agent CLI talks to a scripted model through the gateway, and deleting the
 * sandbox terminates the instance. What the instance's user-data holds is read back from moto: no prompt, no
 * env value, no credential that still works.
 * - `ssh`: a pre-built AMI; the channel and the gateway's relay run over SSH through the bastion; the CLI is
 *   copied in over the channel.
 * - `reverse`: a plain AMI whose cloud-init downloads node, agentd and the tools dir (the CLI with it) from
 *   the server's public URL; agentd
 *   dials the channel back over WebSocket and the model calls go over WebSockets of their own. No SSH.
 */
Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });

let ec2: EmulatedEC2;
let model: Awaited<ReturnType<typeof startModelServer>>;

beforeAll(async () => {
  ec2 = await startEmulatedEC2({ agentAMI: { agentdBundlePath, nodeBinaryPath: process.execPath } });
  model = await startModelServer();
}, 180_000);

afterAll(async () => {
  await model?.close();
  await ec2?.close();
});

const channels = [
  {
    channel: "ssh",
    env: (): Record<string, string> => ec2ServerEnv(ec2, "ssh"),
    /** The sealed SSH key lives with the machine and goes with it. */
    machineWhileRunning: { sealedPrivateKey: expect.stringMatching(/^v1\./) },
  },
  {
    channel: "reverse",
    env: (port: number): Record<string, string> => ({
      ...ec2ServerEnv(ec2, "reverse"),
      CIAB_SERVER_HOST: "127.0.0.1",
      CIAB_SERVER_PUBLIC_URL: `http://127.0.0.1:${port}`,
    }),
    /** Only a hash of the channel secret is kept, never the secret itself. */
    machineWhileRunning: { channel: "reverse", channelSecretHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
  },
] as const;

describe.each(channels)("a session on ec2 over $channel", ({ channel, env, machineWhileRunning }) => {
  let server: TestServer;
  let ciab: Ciab;

  beforeAll(async () => {
    const port = await freePort();
    server = await startTestServer({
      port,
      env: {
        CIAB_EC2_INSTANCE_TYPE: "t3.small",
        CIAB_GATEWAY_GOOGLE_BASE_URL: model.url,
        ...env(port),
      },
    });
    ciab = new Ciab({ url: server.url, token: server.token });
    await ciab.secrets.set("GEMINI_API_KEY", "real-key-gemini");
  }, 180_000);

  afterAll(async () => {
    await server?.close();
  });

  test("runs gemini-cli headless through the gateway, then delete terminates the instance", async () => {
    const secret = `session-secret-${Date.now()}`;
    const session = await ciab.sessions.create({
      provider: "gemini-cli",
      prompt: "Create hello.txt in the repository.",
      env: { SESSION_SECRET: secret },
      keep_sandbox: true,
    });
    const events: SessionEvent[] = [];
    for await (const event of ciab.sessions.follow(session.id)) events.push(event);
    const done = await ciab.sessions.get(session.id);
    const failure = events.filter((event) => event.type === "session.error" || event.type === "shell.output");
    expect(done.state, JSON.stringify(failure).slice(0, 2000)).toBe("completed");
    expect(done.exit_code).toBe(0);
    const types = new Set(events.map((event) => event.type));
    expect(types).toContain("tool.call");
    expect(types).toContain("agent.result");
    expect(events.some((event) => event.type === "usage.reported" && event.data.source === "gateway")).toBe(true);

    const sandbox = await ciab.sandboxes.get(done.sandbox_id!);
    expect(sandbox.info.runtime).toBe("ec2");
    expect(await sandbox.files.read("/workspace/hello.txt")).toContain("hello");
    const keys = model.requests.map((request) => String(request.headers["x-goog-api-key"] ?? ""));
    expect(keys.every((key) => key === "real-key-gemini")).toBe(true);
    expect(JSON.stringify(events)).not.toContain("real-key-");

    const found = await ec2.aws.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:ciab-sandbox-id", Values: [sandbox.id] }] }));
    const instance = found.Reservations![0]!.Instances![0]!;
    expect(instance.InstanceType).toBe("t3.small");
    expect(ec2.player.containerOf(instance.InstanceId!)).toBeDefined();

    const attribute = await ec2.aws.send(new DescribeInstanceAttributeCommand({ InstanceId: instance.InstanceId!, Attribute: "userData" }));
    const userData = Buffer.from(attribute.UserData!.Value!, "base64").toString("utf8");
    expect(userData).not.toContain("Create hello.txt");
    expect(userData).not.toContain(secret);
    expect(userData).not.toContain("real-key-");
    const tokens = userData.match(/ciabot_[A-Za-z0-9_-]+/g) ?? [];
    expect(tokens.length).toBe(channel === "reverse" ? 1 : 0);
    for (const token of tokens) {
      const dialed = await dialChannel(`${server.url.replace(/^http/, "ws")}/agent-channel/${sandbox.id}/agent`, token);
      expect(dialed).toMatchObject({ status: 401, body: { error: { context: { reason: "replayed" } } } });
    }
    for (const url of userData.match(/http:\/\/127\.0\.0\.1:\d+\/machine-downloads\/config\?[^"]+/g) ?? []) {
      expect((await fetch(url)).status).toBe(401);
    }

    const storedMachine = () => {
      const database = new Database(path.join(server.dataDirectory, "ciab.db"), { readonly: true });
      try {
        const row = database.prepare("select machine from sandboxes where id = ?").get(sandbox.id) as { machine: string };
        return JSON.parse(row.machine) as { details: Record<string, unknown> };
      } finally {
        database.close();
      }
    };
    expect(storedMachine().details).toMatchObject(machineWhileRunning);
    expect(JSON.stringify(storedMachine())).not.toContain("ciabcs_");
    await sandbox.delete();
    // The instance id stays for history; secrets go with the machine.
    expect(storedMachine().details).toMatchObject({ instanceID: instance.InstanceId, instanceType: "t3.small" });
    expect(storedMachine().details.sealedPrivateKey).toBeUndefined();
    const after = await ec2.aws.send(new DescribeInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
    expect(after.Reservations![0]!.Instances![0]!.State?.Name).toBe("terminated");
    await ec2.player.waitFor(instance.InstanceId!, (played) => played.container === undefined, 30_000);
  }, 240_000);
});
