import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { DescribeTasksCommand, RunTaskCommand, StopTaskCommand, type ECSClient } from "@aws-sdk/client-ecs";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import type { Ciab } from "../../packages/sdk/src/index.js";
import type { TaskPlayer } from "../harness/aws/index.js";
import { startFargateSessions, type FargateSessions } from "../harness/aws/fargate-sessions.js";
import type { TestServer } from "../harness/test-server.js";

/**
 * Sessions on fargate, end to end: the server runs a task of the agent image in moto's ECS, the task player
 * plays it as a container on loopback, agentd in it dials the server back, and pi (baked into the image) talks
 * to a scripted model through the gateway over the reverse channel.
 */
const cluster = "ciab-sessions";
const cliPath = path.join(import.meta.dirname, "..", "..", "packages", "cli", "bin", "ciab.mjs");
let fargate: FargateSessions;
let player: TaskPlayer;
let ecs: ECSClient;
let model: FargateSessions["model"];
let server: TestServer;
let ciab: Ciab;

const taskOf = (sandboxID: string) => fargate.taskOf(sandboxID);

beforeAll(async () => {
  fargate = await startFargateSessions({ cluster, prefix: "ciab-fargate-session-" });
  ({ player, ecs, model, server, ciab } = fargate);
}, 600_000);

afterAll(async () => {
  await fargate?.close();
});

describe("a session on fargate", () => {
  test("runs pi headless through the gateway over the reverse channel; delete stops the task", async () => {
    const session = await ciab.sessions.create({ provider: "pi", prompt: "Create hello.txt in the repository.", keep_sandbox: true });
    const events: SessionEvent[] = [];
    for await (const event of ciab.sessions.follow(session.id)) events.push(event);
    const done = await ciab.sessions.get(session.id);
    const failure = events.filter((event) => event.type === "session.error" || event.type === "shell.output");
    expect(done.state, JSON.stringify(failure).slice(0, 2000)).toBe("completed");
    expect(done.exit_code).toBe(0);
    expect(events.some((event) => event.type === "tool.call")).toBe(true);
    expect(events.some((event) => event.type === "usage.reported" && event.data.source === "gateway")).toBe(true);
    expect(model.requests.every((request) => request.headers["x-api-key"] === "real-key-anthropic")).toBe(true);
    expect(JSON.stringify(events)).not.toContain("real-key-");

    const sandbox = await ciab.sandboxes.get(done.sandbox_id!);
    expect(sandbox.info.runtime).toBe("fargate");
    expect(await sandbox.files.read("/workspace/hello.txt")).toBe("hello from pi");
    const whoami = await sandbox.commands.run("id -un");
    expect(whoami.stdout.trim()).toBe("operator");
    const task = await taskOf(sandbox.id);
    expect(task.lastStatus).toBe("RUNNING");
    const shell = await sandbox.shellCommand();
    expect(shell.argv).toEqual(["aws", "ecs", "execute-command", "--region", "us-east-1", "--cluster", cluster, "--task", task.taskArn, "--container", "agent", "--interactive", "--command", "/bin/bash"]);
    const printed = await promisify(execFile)(process.execPath, [cliPath, "--url", server.url, "--token", server.token, "session", "exec-command", session.id]);
    expect(printed.stdout.trim()).toBe(shell.command);
    await sandbox.delete();
    expect((await taskOf(sandbox.id)).desiredStatus).toBe("STOPPED");
  });

  test("an interactive shell in the task: a pty attached over WebSocket through the reverse channel, as operator", async () => {
    const sandbox = await ciab.sandboxes.create({ env: { GREETING: "hello from fargate" } });
    try {
      const started = await sandbox.processes.start(["bash", "--norc", "--noprofile", "-i"], { pty: { cols: 80, rows: 24 } });
      const attachment = await sandbox.processes.attach(started.pid);
      let text = "";
      const reading = (async () => {
        for await (const chunk of attachment.output) text += chunk.toString();
      })();
      const until = async (pattern: RegExp) => {
        for (let attempt = 0; attempt < 100 && !pattern.test(text); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 100));
        expect(text).toMatch(pattern);
      };
      attachment.write('echo "[$GREETING|$(id -un)]"\r');
      await until(/\[hello from fargate\|operator\]\r\n/);
      attachment.write("exit 3\r");
      expect(await attachment.exited).toEqual({ exit_code: 3, signal: null });
      await reading;
    } finally {
      await sandbox.delete();
    }
  });

  test("a task stopped behind our back fails its sandbox with machine_lost", async () => {
    const sandbox = await ciab.sandboxes.create({});
    const task = await taskOf(sandbox.id);
    await ecs.send(new StopTaskCommand({ cluster, task: task.taskArn!, reason: "stopped by an operator" }));
    await player.waitForGone(task.taskArn!);
    const exec = await server.api("POST", `/sandboxes/${sandbox.id}/exec`, { command: ["true"] });
    expect(exec.body.error).toMatchObject({ code: "sandbox_failed", context: { reason: "machine_lost" } });
  });

  test("a local sandbox has no backend shell command: ciab sandbox attach is its shell", async () => {
    const created = await server.api("POST", "/sandboxes", { runtime: "local" });
    const answer = await server.api("GET", `/sandboxes/${created.body.id}/shell-command`);
    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe("capability_unsupported");
  });

  test("pause is capability_unsupported", async () => {
    const sandbox = await ciab.sandboxes.create({});
    const answer = await server.api("POST", `/sandboxes/${sandbox.id}/pause`);
    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe("capability_unsupported");
    await sandbox.delete();
  });

  test("the reconciler stops a task of this installation that no sandbox owns", async () => {
    const database = new Database(path.join(fargate.dataDirectory, "ciab.db"), { readonly: true });
    const installationID = (database.prepare("select value from meta where key = 'installation_id'").get() as { value: string }).value;
    database.close();
    const [subnet, group] = [fargate.network.CIAB_RUNTIME_FARGATE_SUBNETS, fargate.network.CIAB_RUNTIME_FARGATE_SECURITY_GROUPS];
    const orphan = await ecs.send(
      new RunTaskCommand({
        cluster,
        taskDefinition: "ciab-agent",
        launchType: "FARGATE",
        networkConfiguration: { awsvpcConfiguration: { subnets: [subnet], securityGroups: [group] } },
        tags: [
          { key: "ciab-managed", value: "true" },
          { key: "ciab-sandbox-id", value: "sbx_nobodyhasthis" },
          { key: "ciab-installation-id", value: installationID },
        ],
      }),
    );
    const taskArn = orphan.tasks![0]!.taskArn!;
    await server.close({ keepData: true });
    await fargate.restart({ CIAB_SERVER_ORPHAN_GRACE_SECONDS: "0" });
    ({ server, ciab } = fargate);
    const deadline = Date.now() + 30_000;
    let task = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }))).tasks![0]!;
    while (task.desiredStatus !== "STOPPED" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      task = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }))).tasks![0]!;
    }
    expect(task.desiredStatus).toBe("STOPPED");
  });
});
