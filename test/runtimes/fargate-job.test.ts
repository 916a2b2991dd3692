import { StopTaskCommand, type ECSClient, type Task } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import type { Ciab } from "../../packages/sdk/src/index.js";
import type { TaskPlayer } from "../harness/aws/index.js";
import { startFargateSessions, type FargateSessions } from "../harness/aws/fargate-sessions.js";
import { helloFileScript, type ModelScript } from "../harness/model-server/scripts.js";
import type { TestServer } from "../harness/test-server.js";

/**
 * Headless sessions on fargate as seed 002's one task per prompt (docs/decisions/0038): the task starts with
 * `JOB_PROMPT`, its entrypoint runs pi once ciab prepared /workspace through agentd, the task's log holds
 * pi's JSON lines and the audit lines, and the session ends with the container's exit code.
 */
const cluster = "ciab-jobs";
const steps = 4;
const hello = helloFileScript();
/** One model for every test, told apart by the prompt. */
const script: ModelScript = (turn) => {
  if (turn.text.includes("FAIL-MODEL")) return { error: { status: 400, message: "scripted failure: model not allowed" } };
  if (turn.text.includes("SLEEP-TOOL")) return turn.toolResults > 0 ? { text: "done" } : { toolCall: { name: "bash", input: { command: "sleep 600" } } };
  // Past the 1 MB output cap in pi's lines (each update carries the message so far), then a tool that would run on.
  if (turn.text.includes("FLOOD-OUTPUT")) return turn.toolResults > 0 ? { text: "done" } : { text: "x".repeat(600_000), toolCall: { name: "bash", input: { command: "sleep 600" } } };
  if (turn.text.includes("SLOW-STEPS")) {
    if (turn.toolResults >= steps) return { text: "all steps done" };
    return { text: `step ${turn.toolResults + 1}`, toolCall: { name: "bash", input: { command: `sleep 1 && echo step-${turn.toolResults + 1}` } } };
  }
  return hello(turn);
};

let fargate: FargateSessions;
let player: TaskPlayer;
let ecs: ECSClient;
let model: FargateSessions["model"];
let server: TestServer;
let ciab: Ciab;

/** The server again on the same port: agentd in a task dials the public URL it was started with. */
async function restartServer(extraEnv?: Record<string, string>): Promise<void> {
  await fargate.restart(extraEnv);
  ({ server, ciab } = fargate);
}

const taskOf = (sandboxID: string): Promise<Task> => fargate.taskOf(sandboxID);

beforeAll(async () => {
  fargate = await startFargateSessions({ cluster, prefix: "ciab-fargate-job-", script, env: { CIAB_POLICY_MAX_SESSION_OUTPUT_MB: "1" } });
  ({ player, ecs, model, server, ciab } = fargate);
}, 600_000);

afterAll(async () => {
  await fargate?.close();
});

async function sandboxOf(sessionID: string): Promise<string> {
  for (let attempt = 0; attempt < 600; attempt += 1) {
    const session = await ciab.sessions.get(sessionID);
    if (session.sandbox_id && (await ciab.sandboxes.get(session.sandbox_id)).info.state === "ready") return session.sandbox_id;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`session ${sessionID} got no ready sandbox in 60 s`);
}

async function followToEnd(sessionID: string): Promise<SessionEvent[]> {
  const events: SessionEvent[] = [];
  for await (const event of ciab.sessions.follow(sessionID)) events.push(event);
  return events;
}

function jobEnv(task: Task): Record<string, string> {
  const override = task.overrides?.containerOverrides?.find((candidate) => candidate.name === "agent");
  return Object.fromEntries((override?.environment ?? []).map((variable) => [variable.name!, variable.value ?? ""]));
}

/** The played container's exit code once its task ended (moto keeps none). */
async function containerExit(taskArn: string): Promise<number | undefined> {
  const played = await player.waitForTask(taskArn);
  await player.waitForGone(taskArn, 45_000).catch(() => undefined);
  for (let attempt = 0; attempt < 100 && played.exitCode === undefined; attempt += 1) await new Promise((resolve) => setTimeout(resolve, 100));
  return played.exitCode;
}

/** The task once ECS has it STOPPED, within `timeoutMs` of now. */
async function stoppedWithin(sandboxID: string, timeoutMs: number): Promise<Task> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const task = await taskOf(sandboxID);
    if (task.lastStatus === "STOPPED") return task;
    if (performance.now() > deadline) throw new Error(`task of ${sandboxID} is ${task.lastStatus}, not STOPPED, ${timeoutMs} ms after its session ended`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("a headless session on fargate is the task's job", () => {
  test("pi writes the file as the task's job and the session ends with exit 0; the task log has pi's lines and the audit", async () => {
    const prompt = "Create hello.txt in the repository.";
    const session = await ciab.sessions.create({ provider: "pi", prompt, keep_sandbox: true });
    const sandboxID = await sandboxOf(session.id);
    const task = await taskOf(sandboxID);
    expect(jobEnv(task)).toMatchObject({ JOB_PROMPT: prompt, JOB_PROVIDER: "ciab", JOB_MODEL: "claude-sonnet-4-5" });
    expect(Object.keys(jobEnv(task))).not.toContain("CIAB_SESSION_TOKEN");

    const events = await followToEnd(session.id);
    const done = await ciab.sessions.get(session.id);
    expect(done.state, JSON.stringify(events.filter((event) => event.type === "session.error" || event.type === "shell.output")).slice(0, 2000)).toBe("completed");
    expect(done.exit_code).toBe(0);
    expect(events.filter((event) => event.type === "tool.call")).toHaveLength(1);
    expect(events.some((event) => event.type === "agent.result")).toBe(true);
    expect(events.some((event) => event.type === "usage.reported" && event.data.source === "gateway")).toBe(true);
    expect(JSON.stringify(events)).not.toContain("real-key-");

    const sandbox = await ciab.sandboxes.get(sandboxID);
    expect(await sandbox.files.read("/workspace/hello.txt")).toBe("hello from pi");
    // pi ran as the entrypoint's child, not as a process agentd started: agentd only runs the follower.
    const processes = await sandbox.processes.list();
    expect(processes.map((process) => process.command.join(" "))).toContain("node /opt/ciab/job-follow.mjs");
    expect(processes.some((process) => process.command[0] === "pi" || process.command.includes("pi"))).toBe(false);

    const log = await player.logsOf(task.taskArn!);
    // agentd shares the container's stdout: its `ready` is the one line that is not pi's.
    const lines = log.stdout.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as { type: string });
    expect(lines.filter((line) => line.type === "tool_execution_start")).toHaveLength(1);
    expect(lines.at(-1)!.type).toBe("agent_end");
    const audits = log.stderr.split("\n").filter((line) => line.startsWith('{"type":"ciab.audit"')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(audits.map((audit) => [audit.event, audit.tool])).toEqual([["tool.call", "write"], ["tool.result", "write"]]);
    expect(log.stderr).not.toContain("hello from pi");

    await sandbox.delete();
    expect(await containerExit(task.taskArn!)).toBe(0);
  });

  test("a failed model call ends the session with the container's non-zero exit code", async () => {
    const session = await ciab.sessions.create({ provider: "pi", prompt: "FAIL-MODEL: create hello.txt" });
    const sandboxID = await sandboxOf(session.id);
    const task = await taskOf(sandboxID);
    await followToEnd(session.id);
    const done = await ciab.sessions.get(session.id);
    expect(done.state).toBe("failed");
    expect(done.exit_code).toBe(1);
    expect(await containerExit(task.taskArn!)).toBe(1);
    expect((await player.logsOf(task.taskArn!)).stderr).toContain("pi exited 0 after a failed model call");
  });

  test("StopTask during a tool call ends the session within 31 s with the job's exit code", async () => {
    const session = await ciab.sessions.create({ provider: "pi", prompt: "SLEEP-TOOL" });
    const sandboxID = await sandboxOf(session.id);
    const task = await taskOf(sandboxID);
    const events: SessionEvent[] = [];
    const following = (async () => {
      for await (const event of ciab.sessions.follow(session.id)) events.push(event);
    })();
    for (let attempt = 0; attempt < 600 && !events.some((event) => event.type === "tool.call"); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(events.some((event) => event.type === "tool.call")).toBe(true);
    const stoppedAt = performance.now();
    await ecs.send(new StopTaskCommand({ cluster, task: task.taskArn!, reason: "stopped by an operator" }));
    await following;
    expect(performance.now() - stoppedAt).toBeLessThan(31_000);
    const done = await ciab.sessions.get(session.id);
    expect(done.state).toBe("failed");
    const exitCode = await containerExit(task.taskArn!);
    expect(exitCode).not.toBe(0);
    expect(done.exit_code).toBe(exitCode);
  });

  test("a cancel stops the job through its follower: the session is cancelled and the task stopped, saying why", async () => {
    const session = await ciab.sessions.create({ provider: "pi", prompt: "SLEEP-TOOL" });
    const sandboxID = await sandboxOf(session.id);
    const taskArn = (await taskOf(sandboxID)).taskArn!;
    for await (const event of ciab.sessions.follow(session.id)) if (event.type === "tool.call") break;
    await ciab.sessions.cancel(session.id);
    await followToEnd(session.id);
    const done = await ciab.sessions.get(session.id);
    expect(done.state).toBe("cancelled");
    expect(done.exit_code).toBe(130);
    // The sandbox's delete that follows keeps the first reason.
    expect((await stoppedWithin(sandboxID, 10_000)).stoppedReason).toBe(`ciab: session ${session.id} ended: cancelled`);
    expect(await containerExit(taskArn)).not.toBe(0);
    expect((await player.logsOf(taskArn)).stderr).toContain("SIGTERM: stopping");
  });

  test("a cancelled job whose sandbox is kept has its task stopped too: pi's tool does not run on", async () => {
    const session = await ciab.sessions.create({ provider: "pi", prompt: "SLEEP-TOOL", keep_sandbox: true });
    const sandboxID = await sandboxOf(session.id);
    const taskArn = (await taskOf(sandboxID)).taskArn!;
    for await (const event of ciab.sessions.follow(session.id)) if (event.type === "tool.call") break;
    await ciab.sessions.cancel(session.id);
    await followToEnd(session.id);
    expect((await ciab.sessions.get(session.id)).state).toBe("cancelled");
    expect((await stoppedWithin(sandboxID, 10_000)).stoppedReason).toBe(`ciab: session ${session.id} ended: cancelled`);
    // The kept sandbox has no machine left, and says so.
    await vi.waitFor(async () => expect((await ciab.sandboxes.get(sandboxID)).info).toMatchObject({ state: "failed", failure: { reason: "job_stopped" } }), {
      timeout: 5_000,
    });
    const endedAt = performance.now();
    await player.waitForGone(taskArn, 40_000);
    expect(performance.now() - endedAt).toBeLessThan(40_000);
  });

  test("output past [policy] max_session_output_mb fails the session and stops its kept task at once, saying why", async () => {
    const session = await ciab.sessions.create({ provider: "pi", prompt: "FLOOD-OUTPUT", keep_sandbox: true });
    const sandboxID = await sandboxOf(session.id);
    const taskArn = (await taskOf(sandboxID)).taskArn!;
    const events = await followToEnd(session.id);
    const endedAt = performance.now();
    const done = await ciab.sessions.get(session.id);
    expect(done.state).toBe("failed");
    expect(done.failure?.reason).toBe("payload_too_large");
    expect(done.failure?.message).toContain("max_session_output_mb");
    expect(events.filter((event) => event.type === "session.error").map((event) => event.data.code)).toEqual(["payload_too_large"]);
    // Without the stop, pi's `sleep 600` would keep the task up: ciab killed only the follower.
    expect((await stoppedWithin(sandboxID, 10_000)).stoppedReason).toBe(`ciab: session ${session.id} ended: error (payload_too_large)`);
    await player.waitForGone(taskArn, 40_000);
    expect(performance.now() - endedAt).toBeLessThan(40_000);
  });

  test("a follower killed behind ciab's back fails the session and stops the task its job still runs in", async () => {
    const session = await ciab.sessions.create({ provider: "pi", prompt: "SLEEP-TOOL", keep_sandbox: true });
    const sandboxID = await sandboxOf(session.id);
    for await (const event of ciab.sessions.follow(session.id)) if (event.type === "tool.call") break;
    const sandbox = await ciab.sandboxes.get(sandboxID);
    const follower = (await sandbox.processes.list()).find((process) => process.command.join(" ") === "node /opt/ciab/job-follow.mjs")!;
    await sandbox.processes.signal(follower.pid, "SIGKILL");
    await followToEnd(session.id);
    const done = await ciab.sessions.get(session.id);
    expect(done.state).toBe("failed");
    expect(done.failure?.reason).toBe("agent_exit");
    expect((await stoppedWithin(sandboxID, 10_000)).stoppedReason).toBe(`ciab: session ${session.id} ended: agent_exit`);
  });

  test("a control-plane restart mid-run resumes the stream with no event lost or repeated", async () => {
    const session = await ciab.sessions.create({ provider: "pi", prompt: "SLOW-STEPS" });
    const before: SessionEvent[] = [];
    for await (const event of ciab.sessions.follow(session.id)) {
      before.push(event);
      if (before.filter((seen) => seen.type === "tool.call").length >= 2) break;
    }
    // The control plane alone stops: the task, its agentd and the job go on.
    await server.server.close();
    await restartServer();
    const events = await followToEnd(session.id);
    const done = await ciab.sessions.get(session.id);
    expect(done.state, JSON.stringify(done)).toBe("completed");
    expect(done.exit_code).toBe(0);
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    expect(events.slice(0, before.length)).toEqual(before);
    const calls = events.filter((event) => event.type === "tool.call").map((event) => event.data.call_id);
    expect(calls).toHaveLength(steps);
    expect(new Set(calls).size).toBe(steps);
    const outputs = events.filter((event) => event.type === "tool.result").map((event) => String(event.data.output).trim());
    expect(outputs).toEqual(Array.from({ length: steps }, (_, index) => `step-${index + 1}`));
  });

  test("a prompt with quotes, newlines and unicode reaches pi as it was written, through no shell", async () => {
    const prompt = `Create hello.txt. "double" 'single' \`id\` $(touch /tmp/pwned) $HOME; \\ end\nsecond line\té 日本語 🚀`;
    const session = await ciab.sessions.create({ provider: "pi", prompt, keep_sandbox: true });
    const sandboxID = await sandboxOf(session.id);
    expect(jobEnv(await taskOf(sandboxID)).JOB_PROMPT).toBe(prompt);
    await followToEnd(session.id);
    expect((await ciab.sessions.get(session.id)).exit_code).toBe(0);
    const asked = model.requests.some((request) => JSON.stringify(request.body).includes(JSON.stringify(prompt).slice(1, -1)));
    expect(asked).toBe(true);
    const sandbox = await ciab.sandboxes.get(sandboxID);
    expect((await sandbox.commands.run("test -e /tmp/pwned && echo yes || echo no")).stdout.trim()).toBe("no");
    await sandbox.delete();
  });

  test("a task stopped while the control plane was away ends its session with DescribeTasks' exit code", async () => {
    const session = await ciab.sessions.create({ provider: "pi", prompt: "SLEEP-TOOL" });
    const sandboxID = await sandboxOf(session.id);
    for await (const event of ciab.sessions.follow(session.id)) if (event.type === "tool.call") break;
    await server.server.close();
    const taskArn = (await taskOf(sandboxID)).taskArn!;
    await ecs.send(new StopTaskCommand({ cluster, task: taskArn, reason: "stopped by an operator" }));
    const played = await containerExit(taskArn);
    expect(played).not.toBe(0);
    const described = (await taskOf(sandboxID)).containers![0]!.exitCode;
    await restartServer();
    await followToEnd(session.id);
    const done = await ciab.sessions.get(session.id);
    expect(done.state, JSON.stringify(done)).not.toBe("running");
    expect(done.failure?.reason).not.toBe("agent_unreachable");
    // AWS keeps the container's code; moto answers 0 for every container (docs/decisions/0038), so here the
    // session can only match what DescribeTasks says, not the played container's real code above.
    expect(described).toBe(0);
    expect(done.exit_code).toBe(described);
  }, 120_000);

  test("a job past [budget] max_runtime_minutes fails with max_runtime and its task is stopped saying so", async () => {
    await server.server.close();
    await restartServer({ CIAB_BUDGET_MAX_RUNTIME_MINUTES: "0.2", CIAB_BUDGET_ENFORCE_INTERVAL_SECONDS: "0.5" });
    try {
      const session = await ciab.sessions.create({ provider: "pi", prompt: "SLEEP-TOOL" });
      const sandboxID = await sandboxOf(session.id);
      await followToEnd(session.id);
      expect(await ciab.sessions.get(session.id)).toMatchObject({ state: "failed", end_reason: "max_runtime" });
      expect((await stoppedWithin(sandboxID, 10_000)).stoppedReason).toBe(`ciab: session ${session.id} ended: max_runtime`);
    } finally {
      await server.server.close();
      await restartServer();
    }
  }, 120_000);
});
