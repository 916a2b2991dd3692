import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { Ciab } from "../../packages/sdk/src/index.js";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { freePort } from "../harness/free-port.js";

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "packages", "cli", "bin", "ciab.mjs");

/** A spawned `ciab …` whose output is collected as it comes. */
interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function spawnCiab(args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `ciab server` on a fixed port, so a restarted one is found at the same URL. */
async function startServer(dataDirectory: string, port: number): Promise<Running> {
  const server = spawnCiab(["server", "--port", String(port), "--data-dir", dataDirectory], {
    CIAB_SERVER_LOG_LEVEL: "warn",
    CIAB_SANDBOXES_DEFAULT_TIMEOUT_SECONDS: "3600",
  });
  await waitFor(() => server.stdout().includes("listening on") || server.child.exitCode !== null, "the server to listen");
  if (server.child.exitCode !== null) throw new Error(`server exited: ${server.stderr()}`);
  return server;
}

describe("ciab run and signals, and a server that goes away", () => {
  const data = makeTempDirectory("ciab-cli-signals-");
  let server: Running | undefined;
  const env = () => ({ CIAB_DATA_DIR: data.path, CIAB_URL: "", CIAB_TOKEN: "" });
  afterAll(async () => {
    server?.child.kill("SIGTERM");
    await server?.exited;
    data.remove();
  });

  test("SIGTERM or SIGHUP to `ciab run` (a CI job's timeout) cancels the session: none is left running", async () => {
    const port = await freePort();
    server = await startServer(data.path, port);
    const client = new Ciab({ url: `http://127.0.0.1:${port}`, token: readFileSync(path.join(data.path, "admin-token"), "utf8").trim() });
    for (const signal of ["SIGTERM", "SIGHUP"] as const) {
      const run = spawnCiab(["run", "--provider", "shell", "echo agent-up; sleep 120"], env());
      await waitFor(() => run.stdout().includes("agent-up"), "the agent to start");
      const sessionID = /session (ses_\w+)/.exec(run.stderr())![1]!;
      run.child.kill(signal);
      expect(await run.exited).toBe(130);
      expect(await client.sessions.get(sessionID)).toMatchObject({ state: "cancelled", exit_code: 130 });
    }
    for (const state of ["pending", "starting", "running", "idle"] as const) expect(await client.sessions.list({ state })).toEqual([]);
  }, 90_000);

  test("when the server goes away mid-run, run says how to follow the session and resumes once it is back", async () => {
    const port = Number(new URL(JSON.parse(readFileSync(path.join(data.path, "server.json"), "utf8")).url).port);
    const run = spawnCiab(["run", "--provider", "shell", "echo before; sleep 4; echo after"], env());
    await waitFor(() => run.stdout().includes("before"), "the first output");
    const sessionID = /session (ses_\w+)/.exec(run.stderr())![1]!;
    server!.child.kill("SIGKILL");
    await server!.exited;
    await waitFor(() => run.stderr().includes("lost the server"), "the CLI to notice");
    expect(run.stderr()).toContain(`ciab session logs -f ${sessionID}`);
    server = await startServer(data.path, port);
    expect(await run.exited).toBe(0);
    expect(run.stderr()).toContain("reconnected");
    // Nothing lost or printed twice across the outage.
    expect(run.stdout().match(/before/g)).toHaveLength(1);
    expect(run.stdout()).toContain("after");
  }, 90_000);
});
