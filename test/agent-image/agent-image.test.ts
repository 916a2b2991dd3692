import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Duplex } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { WebSocketServer, createWebSocketStream } from "ws";
import { createAgentClient } from "../../packages/server/src/agent-channel/agent-client.js";
import { startModelServer, type ModelServer } from "../harness/model-server/model-server.js";
import { errorScript, helloFileScript, type ModelScript } from "../harness/model-server/scripts.js";
import { startTestServer } from "../harness/test-server.js";
import { buildAgentImage } from "../harness/agent-image.js";
import { makeJob, removeContainer, runContainer } from "./agent-image-harness.js";

let image: string;
const containers: string[] = [];
const nameContainer = (label: string): string => {
  const name = `ciab-agent-image-${label}-${process.pid}`;
  containers.push(name);
  return name;
};

beforeAll(async () => {
  image = await buildAgentImage();
}, 600_000);

afterAll(() => {
  for (const name of containers) removeContainer(name);
});

async function withModelServer<T>(script: ModelScript, use: (server: ModelServer) => Promise<T>): Promise<T> {
  const server = await startModelServer({ script });
  try {
    return await use(server);
  } finally {
    await server.close();
  }
}

/** The first turn runs `sleep 600` through pi's bash tool: a run that only a signal ends. */
const sleepingScript: ModelScript = (turn) => (turn.toolResults > 0 ? { text: "done" } : { toolCall: { name: "bash", input: { command: "sleep 600" } } });

async function waitForProcess(container: string, pattern: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      execFileSync("docker", ["exec", container, "pgrep", "-f", pattern], { stdio: "ignore" });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`${pattern} never ran in ${container}`);
}

describe("headless runs (JOB_PROMPT)", () => {
  test("pi writes the file, its JSON lines go to stdout and each tool call is audited on stderr", async () => {
    await withModelServer(helloFileScript({ agent: "pi" }), async (server) => {
      const job = makeJob(server.url);
      try {
        const prompt = `Create hello.txt. Quotes " ' \`$(touch /workspace/pwned)\` ; rm -rf / \nüñíçødé ✓`;
        const run = await runContainer(image, { name: nameContainer("hello"), env: { ...job.env, JOB_PROMPT: prompt }, mounts: job.mounts });
        expect(run.exitCode, run.stderr).toBe(0);
        expect(readFileSync(path.join(job.workspace, "hello.txt"), "utf8")).toBe("hello from pi");
        expect(existsSync(path.join(job.workspace, "pwned"))).toBe(false);
        const lines = run.stdout.trim().split("\n").map((line) => JSON.parse(line) as { type: string });
        expect(lines.map((line) => line.type)).toContain("tool_execution_start");
        expect(lines.at(-1)?.type).toBe("agent_end");
        const userText = JSON.stringify(server.requests.find((request) => request.route === "/v1/messages")?.body);
        expect(userText).toContain(JSON.stringify(prompt).slice(1, -1));
        const audits = run.stderr.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(audits).toEqual([
          expect.objectContaining({ type: "ciab.audit", event: "tool.call", tool: "write", args_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }),
          expect.objectContaining({ type: "ciab.audit", event: "tool.result", tool: "write", is_error: false, duration_ms: expect.any(Number) }),
        ]);
        expect(run.stderr).not.toContain("hello from pi");
      } finally {
        job.remove();
      }
    });
  });

  test("a failed model call exits non-zero although pi itself exits 0", async () => {
    await withModelServer(errorScript(400, "scripted failure: model not allowed"), async (server) => {
      const job = makeJob(server.url);
      try {
        const run = await runContainer(image, { name: nameContainer("fail"), env: { ...job.env, JOB_PROMPT: "Create hello.txt" }, mounts: job.mounts });
        expect(run.exitCode).toBe(1);
        expect(run.stderr).toContain("pi exited 0 after a failed model call");
        expect(run.stderr).toContain("scripted failure: model not allowed");
      } finally {
        job.remove();
      }
    });
  });

  test("docker stop during a tool call ends the run well within 31 s", async () => {
    await withModelServer(sleepingScript, async (server) => {
      const job = makeJob(server.url);
      const name = nameContainer("stop");
      try {
        const running = runContainer(image, { name, env: { ...job.env, JOB_PROMPT: "sleep" }, mounts: job.mounts });
        await waitForProcess(name, "sleep 600");
        const stopped = performance.now();
        execFileSync("docker", ["stop", "--time", "40", name]);
        const stopMs = performance.now() - stopped;
        const run = await running;
        expect(stopMs).toBeLessThan(31_000);
        expect(run.exitCode).not.toBe(0);
        expect(run.stderr).toContain("SIGTERM: stopping");
      } finally {
        job.remove();
      }
    });
  });

  test("the hard cap (JOB_MAX_SECONDS) ends a run that would go on", async () => {
    await withModelServer(sleepingScript, async (server) => {
      const job = makeJob(server.url);
      try {
        const run = await runContainer(image, { name: nameContainer("cap"), env: { ...job.env, JOB_PROMPT: "sleep", JOB_MAX_SECONDS: "3" }, mounts: job.mounts });
        expect(run.exitCode).not.toBe(0);
        expect(run.stderr).toContain("the hard cap of 3 s is reached");
        expect(run.durationMs).toBeLessThan(30_000);
      } finally {
        job.remove();
      }
    });
  });
});

describe("the image", () => {
  test("idles without JOB_PROMPT as the non-root operator, with node 24, ripgrep, fd, git and pi", async () => {
    const name = nameContainer("idle");
    const running = runContainer(image, { name, env: {} });
    await waitForProcess(name, "entrypoint.mjs");
    const tools = execFileSync("docker", ["exec", name, "bash", "-lc", "id -un; node --version; rg --version; fd --version; git --version; pi --version 2>&1"], { encoding: "utf8" });
    expect(tools).toMatch(/^operator\nv24\./);
    expect(tools).toMatch(/ripgrep \d/);
    expect(tools).toMatch(/fdfind \d/);
    expect(tools).toMatch(/git version/);
    expect(tools).toMatch(/0\.73\.1/);
    const processes = execFileSync("docker", ["exec", name, "ps", "-o", "user=,args=", "-A"], { encoding: "utf8" });
    for (const line of processes.trim().split("\n")) expect(line).toMatch(/^operator /);
    execFileSync("docker", ["stop", name]);
    const run = await running;
    expect(run.exitCode).toBe(0);
    expect(run.durationMs).toBeLessThan(30_000);
  });

  test("carries no credentials: none in its config, its history or its files", () => {
    const inspect = JSON.parse(execFileSync("docker", ["image", "inspect", image], { encoding: "utf8" })) as [{ Config: { Env: string[]; User: string } }];
    expect(inspect[0].Config.User).toBe("operator");
    for (const variable of inspect[0].Config.Env) expect(variable).not.toMatch(/KEY|TOKEN|SECRET|PASSWORD/i);
    const history = execFileSync("docker", ["history", "--no-trunc", "--format", "{{.CreatedBy}}", image], { encoding: "utf8" });
    expect(history).not.toMatch(/API_KEY|TOKEN=|SECRET|PASSWORD/i);
    const found = execFileSync(
      "docker",
      ["run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c", "find / -xdev \\( -name models.json -o -name auth.json -o -name .npmrc -o -name .git-credentials -o -name credentials -o -name '*.key' \\) 2>/dev/null || true"],
      { encoding: "utf8" },
    );
    expect(found.trim()).toBe("");
  });
});

describe("with ciab's channel env", () => {
  test("ciab-agentd dials out with the one-time token and serves the agent channel; the agent never sees the token", async () => {
    const token = `ciab-ct-${process.pid}-test`;
    const dialIns: Array<{ authorization: string | undefined; path: string | undefined }> = [];
    const sockets: Duplex[] = [];
    const waiting: Array<(duplex: Duplex) => void> = [];
    const hub = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    hub.on("connection", (webSocket, request) => {
      dialIns.push({ authorization: request.headers.authorization, path: request.url });
      if (!request.url?.endsWith("/agent")) return;
      const duplex = createWebSocketStream(webSocket);
      const taker = waiting.shift();
      if (taker) taker(duplex);
      else sockets.push(duplex);
    });
    await new Promise((resolve) => hub.once("listening", resolve));
    const port = (hub.address() as AddressInfo).port;
    const name = nameContainer("channel");
    const running = runContainer(image, {
      name,
      env: { CIAB_CHANNEL_URL: `ws://127.0.0.1:${port}/agent-channel/sbx_image`, CIAB_CHANNEL_TOKEN: token, CIAB_SANDBOX_ID: "sbx_image" },
    });
    const client = createAgentClient({
      connect: async () => sockets.shift() ?? new Promise<Duplex>((resolve) => waiting.push(resolve)),
      expectedSandboxID: "sbx_image",
    });
    try {
      const health = await client.health();
      expect(health).toMatchObject({ agent: "ciab-agentd", workspaceRoot: "/workspace" });
      expect(dialIns[0]).toEqual({ authorization: `Bearer ${token}`, path: "/agent-channel/sbx_image/agent" });
      const result = await client.exec({ command: ["sh", "-c", "id -un; env; ps -o args= -A"] });
      expect(result.stdout).toMatch(/^operator\n/);
      expect(result.stdout).not.toContain(token);
      expect(result.stdout).not.toContain("CIAB_CHANNEL_TOKEN");
    } finally {
      client.close();
      execFileSync("docker", ["stop", name]);
      await running;
      hub.close();
    }
  });
});

describe("as a docker-runtime image", () => {
  test("a sandbox boots from it whatever its ENTRYPOINT and USER, and runs its pi", async () => {
    const server = await startTestServer();
    try {
      const created = await server.api("POST", "/sandboxes", { runtime: "docker", image });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const exec = await server.api("POST", `/sandboxes/${created.body.id}/exec`, { command: ["bash", "-lc", "pi --version 2>&1; rg --version | head -1"] });
      expect(exec.body).toMatchObject({ exit_code: 0, stdout: expect.stringMatching(/0\.73\.1\nripgrep/) });
    } finally {
      await server.close();
    }
  });
});
