import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { startServerProcess, type ServerProcess } from "../harness/server-process.js";

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "packages", "cli", "bin", "ciab.mjs");

describe("the ciab CLI against a running server", () => {
  const data = makeTempDirectory("ciab-cli-");
  const work = makeTempDirectory("ciab-cli-work-");
  let server: ServerProcess;
  const ciab = (args: string[], input?: string) => {
    const result = spawnSync(process.execPath, [cli, ...args], {
      // The CLI finds the server and token from the data dir alone.
      env: { ...process.env, CIAB_DATA_DIR: data.path, CIAB_URL: "", CIAB_TOKEN: "" },
      cwd: work.path,
      encoding: "utf8",
      ...(input !== undefined && { input }),
      timeout: 60_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  beforeAll(async () => {
    server = await startServerProcess(data.path);
  });
  afterAll(async () => {
    const listed = ciab(["sandbox", "list", "--json"]);
    const parsed = JSON.parse(listed.stdout || "[]") as { id: string }[] | { sandboxes: { id: string }[] };
    for (const sandbox of Array.isArray(parsed) ? parsed : parsed.sandboxes) ciab(["sandbox", "rm", sandbox.id]);
    await server?.kill("SIGTERM");
    data.remove();
    work.remove();
  });

  test("create, exec, cp both ways, pause, resume, rm", () => {
    const created = ciab(["sandbox", "create", "--json"]);
    expect(created.code, created.stderr).toBe(0);
    const sandbox = JSON.parse(created.stdout) as { id: string; state: string };
    expect(sandbox.state).toBe("ready");
    expect(created.stderr).toBe(""); // no progress output in a pipe

    const listed = ciab(["sandbox", "list", "--json"]);
    expect(JSON.stringify(JSON.parse(listed.stdout))).toContain(sandbox.id);

    const exec = ciab(["sandbox", "exec", sandbox.id, "--", "sh", "-c", "echo out; echo err >&2; exit 42"]);
    expect(exec.code, exec.stderr).toBe(42);
    expect(exec.stdout).toBe("out\n");
    expect(exec.stderr).toBe("err\n");

    const json = ciab(["sandbox", "exec", sandbox.id, "--json", "--", "echo", "hi"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ exit_code: 0, stdout: "hi\n" });

    writeFileSync(path.join(work.path, "local.txt"), "from the host\n");
    const copiedIn = ciab(["sandbox", "cp", "local.txt", `${sandbox.id}:/workspace/copied.txt`]);
    expect(copiedIn.code, copiedIn.stderr).toBe(0);
    expect(ciab(["sandbox", "exec", sandbox.id, "--", "cat", "copied.txt"]).stdout).toBe("from the host\n");
    const copiedOut = ciab(["sandbox", "cp", `${sandbox.id}:copied.txt`, "back.txt"]);
    expect(copiedOut.code, copiedOut.stderr).toBe(0);
    expect(readFileSync(path.join(work.path, "back.txt"), "utf8")).toBe("from the host\n");
    expect(ciab(["sandbox", "cp", `${sandbox.id}:copied.txt`, "-"]).stdout).toBe("from the host\n");
    const piped = ciab(["sandbox", "cp", "-", `${sandbox.id}:stdin.txt`], "piped in");
    expect(piped.code, piped.stderr).toBe(0);
    expect(ciab(["sandbox", "exec", sandbox.id, "--", "cat", "stdin.txt"]).stdout).toBe("piped in");

    expect(JSON.parse(ciab(["sandbox", "pause", sandbox.id, "--json"]).stdout).state).toBe("paused");
    expect(JSON.parse(ciab(["sandbox", "resume", sandbox.id, "--json"]).stdout).state).toBe("ready");
    expect(JSON.parse(ciab(["sandbox", "get", sandbox.id, "--json"]).stdout).state).toBe("ready");

    const removed = ciab(["sandbox", "rm", sandbox.id, "--json"]);
    expect(removed.code, removed.stderr + removed.stdout).toBe(0);
    expect(ciab(["sandbox", "get", sandbox.id, "--json"]).stdout).toContain("terminated");
  });

  test("run: prints the session's events and exits with the agent's code; logs replays them", () => {
    const run = ciab(["run", "--provider", "shell", "echo from-the-agent; exit 4"]);
    expect(run.code, run.stderr).toBe(4);
    expect(run.stdout).toContain("from-the-agent\n");
    expect(run.stdout).toContain("✗ failed (exit 4)");
    const sessionID = /session (ses_\w+)/.exec(run.stderr)![1]!;

    const json = ciab(["run", "--provider", "shell", "--json", "echo json-line"]);
    expect(json.code).toBe(0);
    const events = json.stdout.trim().split("\n").map((line) => JSON.parse(line) as { seq: number; type: string });
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    expect(events.at(-1)?.type).toBe("session.state.changed");

    expect(ciab(["session", "logs", sessionID]).stdout).toContain("from-the-agent");
    const listed = JSON.parse(ciab(["session", "list", "--json"]).stdout) as { sessions: { id: string; exit_code: number }[] };
    expect(listed.sessions.find((session) => session.id === sessionID)?.exit_code).toBe(4);
    expect(ciab(["session", "get", sessionID]).stdout).toContain("failed (exit 4)");
  });

  test("secrets go in from stdin and never come out", () => {
    expect(ciab(["secret", "set", "ANTHROPIC_API_KEY"], "sk-very-secret\n").code).toBe(0);
    const listed = ciab(["secret", "list", "--json"]);
    expect(listed.stdout).toContain("ANTHROPIC_API_KEY");
    expect(listed.stdout).not.toContain("sk-very-secret");
    expect(ciab(["secret", "rm", "ANTHROPIC_API_KEY"]).code).toBe(0);
    expect(ciab(["secret", "rm", "ANTHROPIC_API_KEY"]).code).toBe(125);
  });

  test("errors are typed and exit non-zero", () => {
    const missing = ciab(["sandbox", "get", "sbx_00000000000000000000000000"]);
    expect(missing.code).toBe(125);
    expect(missing.stderr).toContain("sandbox_not_found");
    const json = ciab(["sandbox", "get", "sbx_00000000000000000000000000", "--json"]);
    expect(json.code).toBe(125);
    expect(JSON.parse(json.stdout || json.stderr).error.code).toBe("sandbox_not_found");
    const bad = ciab(["sandbox", "create", "--runtime", "mainframe"]);
    expect(bad.code).toBe(2);
  });

  test("no server: a clear message", () => {
    const empty = makeTempDirectory("ciab-cli-none-");
    try {
      const result = spawnSync(process.execPath, [cli, "sandbox", "list"], {
        env: { ...process.env, CIAB_DATA_DIR: empty.path, CIAB_URL: "", CIAB_TOKEN: "" },
        encoding: "utf8",
      });
      expect(result.status).toBe(69);
      expect(result.stderr).toContain("no ciab server found");
    } finally {
      empty.remove();
    }
  });
});
