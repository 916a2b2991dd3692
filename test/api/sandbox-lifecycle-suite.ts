import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Ciab, type SandboxHandle } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/**
 * Everything a user does with one sandbox, through the SDK against a real server, for one runtime.
 * Each runtime's test file calls this; runtime-specific checks live in those files.
 */
export function sandboxLifecycleSuite(runtime: "local" | "docker", extra?: (context: () => SuiteContext) => void): void {
  describe(`sandbox lifecycle on ${runtime}`, () => {
    const context = {} as SuiteContext;
    beforeAll(async () => {
      context.server = await startTestServer();
      context.ciab = new Ciab({ url: context.server.url, token: context.server.token });
      context.sandbox = await context.ciab.sandboxes.create({ runtime, env: { GREETING: "hello from env" }, tags: { suite: "lifecycle" } });
    });
    afterAll(async () => context.server?.close());

    test("created ready, with its env keys but not their values", () => {
      expect(context.sandbox.info.state).toBe("ready");
      expect(context.sandbox.info.runtime).toBe(runtime);
      expect(context.sandbox.info.env_keys).toEqual(["GREETING"]);
      expect(JSON.stringify(context.sandbox.info)).not.toContain("hello from env");
    });

    test("exec: output, exit codes, env, cwd, stdin, timeout", async () => {
      const commands = context.sandbox.commands;
      const echo = await commands.run(["sh", "-c", 'echo "$GREETING"; echo oops >&2; exit 3']);
      expect(echo).toMatchObject({ stdout: "hello from env\n", stderr: "oops\n", exit_code: 3, timed_out: false });
      expect((await commands.run("pwd")).stdout).toBe("/workspace\n");
      await context.sandbox.files.mkdir("/workspace/sub", { parents: true });
      expect((await commands.run("pwd", { cwd: "/workspace/sub" })).stdout).toBe("/workspace/sub\n");
      expect((await commands.run(["sh", "-c", "echo $A$B"], { env: { A: "x", B: "y" } })).stdout).toBe("xy\n");
      expect((await commands.run(["cat"], { stdin: "piped" })).stdout).toBe("piped");
      const slow = await commands.run(["sleep", "10"], { timeout_ms: 300 });
      expect(slow.timed_out).toBe(true);
      expect(slow.duration_ms).toBeLessThan(5000);
    });

    test("exec streaming delivers output as it comes, then the exit", async () => {
      const events = [];
      for await (const event of context.sandbox.commands.stream(["sh", "-c", "echo one; sleep 0.2; echo two >&2; exit 7"])) {
        events.push(event);
      }
      const kinds = events.map((event) => event.type);
      expect(kinds[0]).toBe("exec.start");
      expect(kinds.at(-1)).toBe("exec.exit");
      const text = events
        .map((event) => (event.type === "exec.output" ? `${event.stream}:${event.data.toString()}` : ""))
        .join("");
      expect(text).toContain("stdout:one");
      expect(text).toContain("stderr:two");
      expect(events.at(-1)).toMatchObject({ exit_code: 7 });
    });

    test("files: write, read, stat, list, rename, remove", async () => {
      const files = context.sandbox.files;
      const written = await files.write("notes/a.txt", "alpha", { mode: 0o600 });
      expect(written).toMatchObject({ path: "/workspace/notes/a.txt", type: "file", size: 5, mode: 0o600 });
      expect(await files.read("/workspace/notes/a.txt")).toBe("alpha");
      expect((await files.stat("notes")).type).toBe("dir");
      await files.rename("notes/a.txt", "notes/b.txt");
      expect((await files.list("/workspace/notes")).map((entry) => entry.name)).toEqual(["b.txt"]);
      await files.remove("notes", { recursive: true });
      await expect(files.stat("notes")).rejects.toMatchObject({ code: "file_not_found" });
      const cat = await context.sandbox.commands.run("cat /workspace/sub/../sub/.. 2>/dev/null; ls /workspace");
      expect(cat.stdout).not.toContain("notes");
    });

    test("upload and download stream 24 MiB intact", async () => {
      const data = randomBytes(24 * 1024 * 1024);
      const digest = createHash("sha256").update(data).digest("hex");
      const chunks = function* () {
        for (let offset = 0; offset < data.length; offset += 1024 * 1024) yield data.subarray(offset, offset + 1024 * 1024);
      };
      const entry = await context.sandbox.files.upload("/workspace/big.bin", Readable.from(chunks()));
      expect(entry.size).toBe(data.length);
      const inside = await context.sandbox.commands.run(["sha256sum", "/workspace/big.bin"]);
      expect(inside.stdout.split(" ")[0]).toBe(digest);
      const hash = createHash("sha256");
      for await (const chunk of await context.sandbox.files.download("/workspace/big.bin")) hash.update(chunk as Buffer);
      expect(hash.digest("hex")).toBe(digest);
    });

    test("ports lists a server listening inside", async () => {
      const script = "require('net').createServer().listen(4817, '127.0.0.1'); setInterval(() => {}, 1000)";
      const started = await context.sandbox.processes.start(["/opt/ciab/node", "-e", script], { tag: "server" });
      let ports: { port: number }[] = [];
      for (let attempt = 0; attempt < 50 && !ports.some((port) => port.port === 4817); attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        ports = await context.sandbox.ports();
      }
      expect(ports).toContainEqual(expect.objectContaining({ port: 4817, address: "127.0.0.1", family: "ipv4" }));
      expect((await context.sandbox.processes.list()).map((process) => process.pid)).toContain(started.pid);
      await context.sandbox.processes.signal(started.pid, "SIGTERM");
    });

    test("network none: only loopback inside", async () => {
      const interfaces = await context.sandbox.commands.run(["cat", "/proc/net/dev"]);
      const names = interfaces.stdout
        .split("\n")
        .slice(2)
        .map((line) => line.split(":")[0]!.trim())
        .filter(Boolean);
      expect(names).toEqual(["lo"]);
    });

    test("pause freezes and resume thaws", async () => {
      const paused = await context.sandbox.pause();
      expect(paused.state).toBe("paused");
      await expect(context.sandbox.commands.run(["true"])).rejects.toMatchObject({ code: "sandbox_not_ready" });
      const resumed = await context.sandbox.resume();
      expect(resumed.state).toBe("ready");
      expect((await context.sandbox.commands.run(["echo", "back"])).stdout).toBe("back\n");
    });

    extra?.(() => context);

    test("delete terminates and the sandbox is gone from the default list", async () => {
      const deleted = await context.sandbox.delete();
      expect(deleted.state).toBe("terminated");
      const listed = await context.ciab.sandboxes.list();
      expect(listed.map((sandbox) => sandbox.id)).not.toContain(context.sandbox.id);
      await expect(context.sandbox.commands.run(["true"])).rejects.toMatchObject({ code: "invalid_state" });
    });
  });
}

export interface SuiteContext {
  server: TestServer;
  ciab: Ciab;
  sandbox: SandboxHandle;
}
