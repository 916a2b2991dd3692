import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AuthenticationError, CommandExitError, FileNotFoundError, InvalidArgumentError, NotFoundError, Sandbox, SandboxError } from "e2b";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/**
 * Programs written for E2B's SDK, run unchanged against ciab: the real `e2b` package pointed at a real server
 * (local runtime) with E2B_API_URL / E2B_SANDBOX_URL, a ciab token as its API key.
 */
const multipartLimit = 1024 * 1024;
let server: TestServer;
let sandbox: Sandbox;

beforeAll(async () => {
  server = await startTestServer({ env: { CIAB_SERVER_BODY_LIMIT_BYTES: String(multipartLimit) } });
  process.env.E2B_API_URL = `${server.url}/e2b`;
  process.env.E2B_SANDBOX_URL = `${server.url}/e2b/envd`;
  process.env.E2B_API_KEY = server.token;
  sandbox = await Sandbox.create("base", { timeoutMs: 600_000, metadata: { suite: "e2b", run: "1" }, envs: { GREETING: "hello from e2b" } });
});
afterAll(async () => server?.close());

/** A token of a fresh workspace: its sandboxes and ours do not see each other. */
async function otherWorkspaceToken(name: string): Promise<string> {
  const created = await server.api("POST", "/workspaces", { name, user_name: "eve", role: "admin" });
  expect(created.status).toBe(201);
  return created.body.token as string;
}

describe("sandboxes", () => {
  test("create gives a ready ciab sandbox: same id, metadata as tags, its lifetime, E2B's info", async () => {
    const ours = await server.api("GET", `/sandboxes/${sandbox.sandboxId}`);
    expect(ours.status).toBe(200);
    expect(ours.body).toMatchObject({ state: "ready", runtime: "local", tags: { suite: "e2b", run: "1" }, timeout_secs: 600, on_timeout: "delete" });
    expect(ours.body.env_keys).toEqual(["GREETING"]);
    const info = await sandbox.getInfo();
    expect(info).toMatchObject({ sandboxId: sandbox.sandboxId, templateId: "base", metadata: { suite: "e2b", run: "1" }, state: "running" });
    expect(info.endAt.getTime()).toBe(Date.parse(ours.body.expires_at));
    expect(await sandbox.isRunning()).toBe(true);
  });

  test("connect, list with a metadata filter, setTimeout onto expires_at", async () => {
    const again = await Sandbox.connect(sandbox.sandboxId);
    expect((await again.commands.run("echo $GREETING")).stdout).toBe("hello from e2b\n");
    const listed = await Sandbox.list({ query: { metadata: { suite: "e2b" } } }).nextItems();
    expect(listed.map((item) => item.sandboxId)).toEqual([sandbox.sandboxId]);
    expect(await Sandbox.list({ query: { metadata: { suite: "none" } } }).nextItems()).toEqual([]);
    const before = Date.now();
    await sandbox.setTimeout(120_000);
    const expires = Date.parse((await server.api("GET", `/sandboxes/${sandbox.sandboxId}`)).body.expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 119_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 121_000);
    await sandbox.setTimeout(600_000);
  });

  test("kill ends the ciab sandbox; a killed one is not found, and isRunning says false", async () => {
    const doomed = await Sandbox.create({ metadata: { doomed: "yes" } });
    await doomed.kill();
    expect((await server.api("GET", `/sandboxes/${doomed.sandboxId}`)).body.state).toBe("terminated");
    expect(await doomed.isRunning()).toBe(false);
    await expect(Sandbox.getInfo(doomed.sandboxId)).rejects.toBeInstanceOf(NotFoundError);
    expect(await Sandbox.kill(doomed.sandboxId)).toBe(false);
  });

  test("pause, then connect resumes it; what is not served answers a typed error", async () => {
    const napping = await Sandbox.create();
    await napping.files.write("kept.txt", "still here");
    expect(await napping.pause()).toBe(true);
    expect((await server.api("GET", `/sandboxes/${napping.sandboxId}`)).body.state).toBe("paused");
    const woken = await Sandbox.connect(napping.sandboxId);
    expect(await woken.files.read("kept.txt")).toBe("still here");
    const watch = await woken.files.watchDir("/workspace", () => undefined).catch((error: unknown) => error);
    expect(watch).toBeInstanceOf(SandboxError);
    expect(String(watch)).toMatch(/unimplemented.*watching directories/);
    await expect(Sandbox.getMetrics(napping.sandboxId)).rejects.toBeInstanceOf(NotFoundError);
    await woken.kill();
  });
});

describe("commands", () => {
  test("run: output, exit code, envs, cwd and streaming callbacks", async () => {
    const result = await sandbox.commands.run("echo hi; echo err >&2");
    expect(result).toMatchObject({ exitCode: 0, stdout: "hi\n", stderr: "err\n" });
    // A file written by a relative path is where a command finds it by the same path, as on E2B (home there).
    await sandbox.files.write("script.sh", "echo from script");
    expect((await sandbox.commands.run("pwd; sh script.sh")).stdout).toBe("/workspace\nfrom script\n");
    await sandbox.files.makeDir("/workspace/sub");
    expect((await sandbox.commands.run("pwd", { cwd: "/workspace/sub" })).stdout).toBe("/workspace/sub\n");
    expect((await sandbox.commands.run("echo $A$B", { envs: { A: "x", B: "y" } })).stdout).toBe("xy\n");
    const chunks: string[] = [];
    await sandbox.commands.run("echo one; sleep 0.2; echo two >&2", {
      onStdout: (data) => void chunks.push(`out:${data}`),
      onStderr: (data) => void chunks.push(`err:${data}`),
    });
    expect(chunks).toEqual(["out:one\n", "err:two\n"]);
  });

  test("commands and file writes are in the audit trail, as ours are", async () => {
    await sandbox.commands.run("echo audited");
    await sandbox.files.write("audited.txt", "x");
    let tools: string[] = [];
    for (let attempt = 0; attempt < 50 && !(tools.includes("exec.startProcess") && tools.includes("files.write")); attempt += 1) {
      tools = (await server.api("GET", `/audit?sandbox_id=${sandbox.sandboxId}&limit=1000`)).body.entries.map((entry: { tool: string }) => entry.tool);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(tools).toEqual(expect.arrayContaining(["exec.startProcess", "files.write"]));
  });

  test("a non-zero exit throws CommandExitError with the output", async () => {
    const failure = await sandbox.commands.run("echo partial; exit 3").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CommandExitError);
    expect(failure).toMatchObject({ exitCode: 3, stdout: "partial\n" });
  });

  test("background: list, wait, kill", async () => {
    const quick = await sandbox.commands.run("sleep 0.3; echo done", { background: true });
    const slow = await sandbox.commands.run("sleep 30", { background: true });
    const running = (await sandbox.commands.list()).map((process) => process.pid);
    expect(running).toEqual(expect.arrayContaining([quick.pid, slow.pid]));
    expect((await quick.wait()).stdout).toBe("done\n");
    expect(await slow.kill()).toBe(true);
    await expect(slow.wait()).rejects.toBeInstanceOf(CommandExitError);
    expect(await sandbox.commands.kill(slow.pid)).toBe(false);
  });
  test("stdin, reconnecting to a running command, and a PTY", async () => {
    expect((await sandbox.commands.run("cat; echo eof")).stdout).toBe("eof\n");
    const cat = await sandbox.commands.run("cat", { background: true, stdin: true });
    await cat.sendStdin("piped\n");
    await cat.closeStdin();
    expect((await cat.wait()).stdout).toBe("piped\n");
    const later = await sandbox.commands.run("sleep 0.3; echo later", { background: true });
    expect((await (await sandbox.commands.connect(later.pid)).wait()).stdout).toBe("later\n");
    let screen = "";
    const terminal = await sandbox.pty.create({ cols: 80, rows: 24, onData: (data) => void (screen += new TextDecoder().decode(data)) });
    await sandbox.pty.sendInput(terminal.pid, new TextEncoder().encode("echo pty-$((1+2))\n"));
    await sandbox.pty.resize(terminal.pid, { cols: 100, rows: 30 });
    for (let attempt = 0; attempt < 50 && !screen.includes("pty-3"); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(screen).toContain("pty-3");
    expect(await terminal.kill()).toBe(true);
  });
});

describe("files", () => {
  test("write, read as text and bytes, list, exists, getInfo, rename, remove, makeDir", async () => {
    const written = await sandbox.files.write("notes/a.txt", "alpha");
    expect(written).toMatchObject({ name: "a.txt", path: "/workspace/notes/a.txt" });
    expect(await sandbox.files.read("/workspace/notes/a.txt")).toBe("alpha");
    await sandbox.files.write("bin.dat", new Uint8Array([0, 255, 1, 254]).buffer);
    expect([...(await sandbox.files.read("bin.dat", { format: "bytes" }))]).toEqual([0, 255, 1, 254]);
    expect((await sandbox.files.list("notes")).map((entry) => [entry.name, entry.type])).toEqual([["a.txt", "file"]]);
    expect(await sandbox.files.exists("notes/a.txt")).toBe(true);
    expect(await sandbox.files.exists("notes/missing.txt")).toBe(false);
    expect(await sandbox.files.getInfo("notes")).toMatchObject({ type: "dir", path: "/workspace/notes", permissions: expect.stringMatching(/^d/) });
    expect(await sandbox.files.rename("notes/a.txt", "notes/b.txt")).toMatchObject({ name: "b.txt" });
    await expect(sandbox.files.read("notes/a.txt")).rejects.toBeInstanceOf(FileNotFoundError);
    expect(await sandbox.files.makeDir("deep/er/dir")).toBe(true);
    expect(await sandbox.files.makeDir("deep/er/dir")).toBe(false);
    await sandbox.files.remove("deep");
    expect(await sandbox.files.exists("deep")).toBe(false);
  });

  test("paths stay in /workspace: `..` and a link out are refused, as ours are", async () => {
    await expect(sandbox.files.read("../../etc/passwd")).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(sandbox.files.list("/etc")).rejects.toBeInstanceOf(InvalidArgumentError);
    await sandbox.commands.run("ln -s /etc/passwd /workspace/passwd-link && ln -s /etc /workspace/etc-link");
    await expect(sandbox.files.read("passwd-link")).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(sandbox.files.write("etc-link/planted", "x")).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  test("a multipart write past the body limit is refused; an octet-stream one streams", async () => {
    const big = "x".repeat(multipartLimit + 1);
    const refused = await sandbox.files.write("big.txt", big).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SandboxError);
    expect(String(refused)).toMatch(/413|larger than/);
    expect(await sandbox.files.exists("big.txt")).toBe(false);
    await sandbox.files.write("big.txt", big, { useOctetStream: true });
    expect((await sandbox.files.getInfo("big.txt")).size).toBe(big.length);
  });
});

describe("auth", () => {
  test("a wrong API key is AuthenticationError", async () => {
    await expect(Sandbox.create({ apiKey: "ciab_not-a-real-token-at-all-000000" })).rejects.toBeInstanceOf(AuthenticationError);
    await expect(Sandbox.list({ apiKey: "nonsense" }).nextItems()).rejects.toBeInstanceOf(AuthenticationError);
  });

  test("another workspace's sandbox is not found, over REST and over envd", async () => {
    const apiKey = await otherWorkspaceToken("e2b-other");
    await expect(Sandbox.connect(sandbox.sandboxId, { apiKey })).rejects.toBeInstanceOf(NotFoundError);
    expect(await Sandbox.kill(sandbox.sandboxId, { apiKey })).toBe(false);
    expect(await Sandbox.list({ apiKey }).nextItems()).toEqual([]);
    const theirs = await Sandbox.create({ apiKey });
    // Their access token, naming our sandbox: not ours to reach.
    const response = await fetch(`${server.url}/e2b/envd/files?path=notes/b.txt`, {
      headers: { "x-access-token": (theirs as unknown as { envdAccessToken: string }).envdAccessToken, "e2b-sandbox-id": sandbox.sandboxId },
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 404 });
    await theirs.kill();
  });

  test("a forged or missing access token is AuthenticationError", async () => {
    const SandboxClass = Sandbox as unknown as new (options: Record<string, unknown>) => Sandbox;
    const genuine = (sandbox as unknown as { envdAccessToken: string }).envdAccessToken;
    const tampered = `${genuine.slice(0, -2)}${genuine.at(-2) === "A" ? "B" : "A"}${genuine.at(-1)}`;
    for (const envdAccessToken of [undefined, "forged", tampered]) {
      const forged = new SandboxClass({ sandboxId: sandbox.sandboxId, envdAccessToken, envdVersion: "0.5.7" });
      await expect(forged.files.read("notes/b.txt")).rejects.toBeInstanceOf(AuthenticationError);
      await expect(forged.commands.run("true")).rejects.toBeInstanceOf(AuthenticationError);
    }
  });

  test("revoking the API key cuts a command in flight and every later envd call", async () => {
    const created = await server.api("POST", "/tokens", { name: "e2b-revoked" });
    const apiKey = created.body.token as string;
    const mine = await Sandbox.create({ apiKey });
    const running = await mine.commands.run("sleep 30", { background: true });
    const started = Date.now();
    expect((await server.api("DELETE", `/tokens/${created.body.id}`)).status).toBe(200);
    await expect(running.wait()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(mine.files.list(".")).rejects.toBeInstanceOf(AuthenticationError);
    await expect(Sandbox.connect(mine.sandboxId, { apiKey })).rejects.toBeInstanceOf(AuthenticationError);
    await server.api("DELETE", `/sandboxes/${mine.sandboxId}`);
  });

  test("bad Connect input: a broken envelope ends the stream with invalid_argument; an oversized message is refused", async () => {
    const headers = { "x-access-token": (sandbox as unknown as { envdAccessToken: string }).envdAccessToken, "e2b-sandbox-id": sandbox.sandboxId };
    const broken = await fetch(`${server.url}/e2b/envd/process.Process/Start`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/connect+json" },
      body: new Uint8Array([0, 0, 0, 0, 9, 123]),
    });
    expect(broken.status).toBe(200);
    const bytes = new Uint8Array(await broken.arrayBuffer());
    expect(bytes[0]).toBe(2);
    expect(JSON.parse(new TextDecoder().decode(bytes.subarray(5)))).toMatchObject({ error: { code: "invalid_argument" } });
    const oversized = await fetch(`${server.url}/e2b/envd/filesystem.Filesystem/Stat`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ path: "x".repeat(multipartLimit + 1) }),
    });
    expect(oversized.status).toBe(429);
    expect(await oversized.json()).toMatchObject({ code: "resource_exhausted", message: expect.stringMatching(/larger than/) });
  });

  test("bad input: an invalid template and bad metadata are InvalidArgument-style 400s", async () => {
    await expect(Sandbox.create("../etc", {})).rejects.toThrow(/400/);
    await expect(Sandbox.create({ metadata: { "": "empty key" } })).rejects.toThrow(/400/);
    await expect(Sandbox.create({ volumeMounts: { "/data": "vol" } })).rejects.toThrow(/422.*volumeMounts/);
  });
});

test("E2B's routes and envd's are in the OpenAPI document, with their own key headers", async () => {
  const document = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, unknown>; components: { securitySchemes: Record<string, unknown> } };
  for (const path of ["/e2b/v2/sandboxes", "/e2b/sandboxes/{sandboxID}", "/e2b/v2/sandboxes/{sandboxID}/connect", "/e2b/envd/files", "/e2b/envd/{service}/{method}"]) {
    expect(Object.keys(document.paths)).toContain(path);
  }
  expect(document.components.securitySchemes).toMatchObject({ e2bApiKey: { name: "X-API-Key" }, e2bAccessToken: { name: "X-Access-Token" } });
});
