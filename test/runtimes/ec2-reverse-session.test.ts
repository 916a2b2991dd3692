import net from "node:net";
import path from "node:path";
import { DescribeInstancesCommand, type EC2Client } from "@aws-sdk/client-ec2";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import { Ciab } from "../../packages/sdk/src/index.js";
import {
  harnessEC2Client,
  startInstancePlayer,
  startMoto,
  type InstancePlayer,
  type Moto,
} from "../harness/aws/index.js";
import { startModelServer } from "../harness/model-server/model-server.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/**
 * A session on ec2 with `channel = "reverse"`, end to end: the server launches an instance of a plain AMI in
 * moto, the player boots it with cloud-init, which downloads node and agentd from the server's public URL;
 * agentd dials the agent channel back over WebSocket, and the agent's model calls go to the gateway over
 * WebSockets of their own. No SSH, no bastion.
 */
Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });

/** A port free a moment ago: the public URL must be known before the server listens on it. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("a session on ec2 over the reverse channel", () => {
  let moto: Moto;
  let player: InstancePlayer;
  let aws: EC2Client;
  let model: Awaited<ReturnType<typeof startModelServer>>;
  let server: TestServer;
  let ciab: Ciab;

  beforeAll(async () => {
    moto = await startMoto();
    player = await startInstancePlayer({ endpoint: moto.endpoint, pollIntervalMs: 200 });
    aws = harnessEC2Client(moto.endpoint);
    model = await startModelServer();
    const port = await freePort();
    server = await startTestServer({
      port,
      env: {
        CIAB_SERVER_HOST: "127.0.0.1",
        CIAB_SERVER_PUBLIC_URL: `http://127.0.0.1:${port}`,
        CIAB_RUNTIME_EC2_CHANNEL: "reverse",
        CIAB_RUNTIME: "ec2",
        CIAB_EC2_ENDPOINT: moto.endpoint,
        CIAB_EC2_INSTANCE_TYPE: "t3.small",
        CIAB_RUNTIME_EC2_SSH_USER: "admin",
        CIAB_SERVER_AGENT_READY_TIMEOUT_SECONDS: "30",
        CIAB_GATEWAY_GOOGLE_BASE_URL: model.url,
      },
    });
    ciab = new Ciab({ url: server.url, token: server.token });
    await ciab.secrets.set("GEMINI_API_KEY", "real-key-gemini");
  }, 180_000);

  afterAll(async () => {
    await server?.close();
    await model?.close();
    aws?.destroy();
    await player?.close();
    await moto?.stop();
  });

  test("runs gemini-cli headless through the gateway, then delete terminates the instance", async () => {
    const session = await ciab.sessions.create({
      provider: "gemini-cli",
      prompt: "Create hello.txt in the repository.",
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

    const found = await aws.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:ciab-sandbox-id", Values: [sandbox.id] }] }));
    const instance = found.Reservations![0]!.Instances![0]!;
    expect(instance.InstanceType).toBe("t3.small");
    expect(player.containerOf(instance.InstanceId!)).toBeDefined();

    const storedMachine = () => {
      const database = new Database(path.join(server.dataDirectory, "ciab.db"), { readonly: true });
      try {
        const row = database.prepare("select machine from sandboxes where id = ?").get(sandbox.id) as { machine: string };
        return JSON.parse(row.machine) as { details: Record<string, unknown> };
      } finally {
        database.close();
      }
    };
    expect(storedMachine().details).toMatchObject({ channel: "reverse", channelSecretHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(JSON.stringify(storedMachine())).not.toContain("ciabcs_");
    await sandbox.delete();
    expect(storedMachine().details).toMatchObject({ instanceID: instance.InstanceId, instanceType: "t3.small" });
    const after = await aws.send(new DescribeInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
    expect(after.Reservations![0]!.Instances![0]!.State?.Name).toBe("terminated");
    await player.waitFor(instance.InstanceId!, (played) => played.container === undefined, 30_000);
  }, 240_000);
});
