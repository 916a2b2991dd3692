import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startServerProcess, type ServerProcess } from "../harness/server-process.js";
import { makeTempDirectory } from "../harness/temp-directory.js";

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "packages", "cli", "bin", "ciab.mjs");

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The everyday conveniences, through the real CLI against one `ciab server` (local runtime, docker for images). */
describe("ciab for daily use", () => {
  const data = makeTempDirectory("ciab-daily-");
  const work = makeTempDirectory("ciab-daily-work-");
  let server: ServerProcess;

  /** Runs the CLI; `input` is piped to its stdin as bytes (a Buffer), or a shell pipeline feeds it. */
  const ciab = (args: string[], input?: Buffer | string): Promise<Result> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [cli, ...args], {
        env: { ...process.env, CIAB_DATA_DIR: data.path, CIAB_URL: "", CIAB_TOKEN: "" },
        cwd: work.path,
        stdio: ["pipe", "pipe", "pipe"],
        timeout: 60_000,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
      child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
      child.once("error", reject);
      child.once("close", (code) =>
        resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }),
      );
      // A command that stops reading (head -c 5) closes the pipe before all of the input is written.
      child.stdin.on("error", () => undefined);
      child.stdin.end(input);
    });
  const json = async (args: string[]) => {
    const result = await ciab([...args, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  };
  const api = async (route: string) => {
    const response = await fetch(`${server.url}/api/v1${route}`, { headers: { authorization: `Bearer ${server.token}` } });
    return { status: response.status, body: (await response.json()) as { sandboxes: { id: string }[]; error?: unknown } };
  };

  let sandboxID: string;
  let otherID: string;

  beforeAll(async () => {
    server = await startServerProcess(data.path);
    [sandboxID, otherID] = await Promise.all([
      json(["sandbox", "create", "--name", "daily-web", "--tag", "team=web", "--tag", "suite=daily"]).then((sandbox) => sandbox.id),
      json(["sandbox", "create", "--name", "daily-db", "--tag", "team=db", "--tag", "suite=daily"]).then((sandbox) => sandbox.id),
    ]);
  });
  afterAll(async () => {
    await ciab(["sandbox", "rm", "--all", "--yes"]);
    await server?.kill("SIGTERM");
    data.remove();
    work.remove();
  });

  test("exec -i streams stdin: a tar made here unpacks there, byte for byte", async () => {
    const tree = path.join(work.path, "tree");
    mkdirSync(path.join(tree, "sub"), { recursive: true });
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let index = 0; index < big.length; index += 1) big[index] = (index * 31 + (index >> 12)) & 0xff;
    writeFileSync(path.join(tree, "sub", "big.bin"), big);
    writeFileSync(path.join(tree, "run.sh"), "#!/bin/sh\necho ran\n", { mode: 0o755 });
    symlinkSync("sub/big.bin", path.join(tree, "link"));
    const archive = await new Promise<Buffer>((resolve, reject) => {
      const tar = spawn("tar", ["-c", "-C", work.path, "tree"], { stdio: ["ignore", "pipe", "inherit"] });
      const chunks: Buffer[] = [];
      tar.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
      tar.once("error", reject);
      tar.once("close", () => resolve(Buffer.concat(chunks)));
    });
    const unpacked = await ciab(["sandbox", "exec", "-i", sandboxID, "--", "tar", "x"], archive);
    expect(unpacked, unpacked.stderr).toMatchObject({ code: 0 });
    const check = await ciab(["sandbox", "exec", sandboxID, "--", "sh", "-c", "md5sum < tree/sub/big.bin; readlink tree/link; ./tree/run.sh"]);
    const { createHash } = await import("node:crypto");
    expect(check.stdout).toBe(`${createHash("md5").update(big).digest("hex")}  -\nsub/big.bin\nran\n`);

    const echoed = await ciab(["sandbox", "exec", "-i", sandboxID, "--", "sh", "-c", "cat; echo; echo done >&2; exit 3"], "piped");
    expect(echoed).toEqual({ code: 3, stdout: "piped\n", stderr: "done\n" });
    // A command that stops reading early ends the exec; the rest of stdin is dropped.
    const head = await ciab(["sandbox", "exec", "-i", sandboxID, "--", "head", "-c", "5"], Buffer.alloc(2 * 1024 * 1024, 0x61));
    expect(head).toMatchObject({ code: 0, stdout: "aaaaa" });
  });

  test("ps lists the processes, with the pids attach takes", async () => {
    const started = await fetch(`${server.url}/api/v1/sandboxes/${sandboxID}/processes`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
      body: JSON.stringify({ command: "sleep 300", tag: "sleeper" }),
    }).then((response) => response.json() as Promise<{ pid: number }>);
    const table = await ciab(["sandbox", "ps", "daily-web"]);
    expect(table.stdout.split("\n")[0]).toMatch(/^PID\s+STATE\s+STARTED\s+TTY\s+TAG\s+COMMAND$/);
    expect(table.stdout).toMatch(new RegExp(`^${started.pid}\\s+running\\s+\\d+s ago\\s+sleeper\\s+sleep 300$`, "m"));
    const listed = await json(["sandbox", "ps", sandboxID]);
    expect(listed.processes.map((process: { pid: number }) => process.pid)).toContain(started.pid);
  });

  test("a name or a unique id prefix works wherever an id does; an ambiguous prefix lists the candidates", async () => {
    expect((await json(["sandbox", "get", "daily-db"])).id).toBe(otherID);
    const prefix = sandboxID.slice(4, 20);
    expect((await json(["sandbox", "get", prefix])).id).toBe(sandboxID);
    expect(await ciab(["sandbox", "exec", `sbx_${prefix}`, "--", "echo", "by prefix"])).toMatchObject({ code: 0, stdout: "by prefix\n" });
    expect(await ciab(["sandbox", "cp", "-", "daily-web:named.txt"], "via name")).toMatchObject({ code: 0 });
    expect((await ciab(["sandbox", "cp", "daily-web:named.txt", "-"])).stdout).toBe("via name");

    const ambiguous = await ciab(["sandbox", "get", "sbx_"]);
    expect(ambiguous.code).not.toBe(0);
    expect(ambiguous.stderr).toContain('"sbx_" matches');
    expect(ambiguous.stderr).toContain(`${sandboxID} (daily-web)`);
    expect(ambiguous.stderr).toContain(`${otherID} (daily-db)`);
    const missing = await ciab(["sandbox", "get", "no-such-sandbox", "--json"]);
    expect(JSON.parse(missing.stdout).error.code).toBe("not_found");
  });

  test("tags filter lists (CLI and API), show in a column, and rm --all --tag removes only the matches", async () => {
    const table = await ciab(["sandbox", "list", "--tag", "suite=daily"]);
    expect(table.stdout.split("\n")[0]).toMatch(/\sTAGS$/);
    expect(table.stdout).toMatch(/daily-web .* suite=daily,team=web$/m);
    const web = await json(["sandbox", "list", "--tag", "team=web", "--state", "ready"]);
    expect(web.sandboxes.map((sandbox: { id: string }) => sandbox.id)).toEqual([sandboxID]);
    const viaAPI = await api("/sandboxes?tag=suite:daily&tag=team&state=ready&state=paused");
    expect(viaAPI.body.sandboxes.map((sandbox: { id: string }) => sandbox.id).sort()).toEqual([sandboxID, otherID].sort());
    expect((await api("/sandboxes?tag=team:nobody")).body.sandboxes).toEqual([]);
    const unknown = await api("/sandboxes?tags=team:web");
    expect(unknown).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });

    const refused = await ciab(["sandbox", "rm", "--all"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("--yes");

    const extra = await json(["sandbox", "create", "--tag", "team=scratch"]);
    const removed = await ciab(["sandbox", "rm", "--all", "--tag", "team=scratch"]);
    expect(removed).toMatchObject({ code: 0, stdout: `${extra.id} terminated\n` });
    expect((await json(["sandbox", "list"])).sandboxes.map((sandbox: { id: string }) => sandbox.id).sort()).toEqual([sandboxID, otherID].sort());
  });

  test("sessions are listed with their age", async () => {
    const run = await ciab(["run", "--provider", "shell", "--sandbox", "daily-db", "echo from-the-agent"]);
    expect(run.code, run.stderr).toBe(0);
    const table = await ciab(["session", "list"]);
    expect(table.stdout.split("\n")[0]).toMatch(/\sAGE$/);
    expect(table.stdout.split("\n")[1]).toMatch(/\s\d+s$/);
    const sessionID = /session (ses_\w+)/.exec(run.stderr)![1]!;
    expect((await json(["session", "get", sessionID.slice(0, 16)])).id).toBe(sessionID);
  });

  test("a docker sandbox naming an image the engine lacks fails at create, says how to load it, and leaves nothing behind", async () => {
    const failed = await ciab(["sandbox", "create", "--runtime", "docker", "--image", "ciab-test/never-loaded:1"]);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain("image ciab-test/never-loaded:1 is not present in the Docker engine");
    expect(failed.stderr).toContain("docker load");
    expect(failed.stderr).toContain("(image_not_found)");
    const live = await json(["sandbox", "list"]);
    expect(live.sandboxes.map((sandbox: { image: string }) => sandbox.image)).not.toContain("ciab-test/never-loaded:1");
    const all = await json(["sandbox", "list", "--all"]);
    const ended = all.sandboxes.find((sandbox: { image: string }) => sandbox.image === "ciab-test/never-loaded:1");
    expect(ended).toMatchObject({ state: "terminated", end_reason: "image_not_found", failure: { reason: "image_not_found" } });
  });

  test("run -i starts an interactive session and joins its terminal; the agent's exit code is the command's", async () => {
    // Typed ahead: the session's shell reads it once attached.
    const run = await ciab(["run", "-i", "--provider", "shell", "--sandbox", "daily-db"], "echo typed-in-$((6*7))\nexit 7\n");
    expect(run.code, run.stderr).toBe(7);
    expect(run.stdout).toContain("typed-in-42");
    expect(run.stderr).toMatch(/^session ses_\w+\n/);
    const refused = await ciab(["run", "-i", "--provider", "shell", "echo a prompt"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("an interactive session takes no prompt");
  });

  test("cp copies directories both ways, keeping modes and links, writing nothing through a sandbox's link", async () => {
    const project = path.join(work.path, "project");
    mkdirSync(path.join(project, "bin"), { recursive: true });
    writeFileSync(path.join(project, "bin", "tool"), "#!/bin/sh\necho tool-ran\n", { mode: 0o750 });
    writeFileSync(path.join(project, "README"), "read me\n");
    symlinkSync("bin/tool", path.join(project, "tool"));
    const up = await ciab(["sandbox", "cp", "project", "daily-web:/workspace/"]);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toBe(""); // progress only on a terminal
    const listed = await ciab(["sandbox", "exec", "daily-web", "--", "sh", "-c", "stat -c '%a %n' project/bin/tool; readlink project/tool; ./project/tool"]);
    expect(listed.stdout).toBe("750 project/bin/tool\nbin/tool\ntool-ran\n");

    const outside = path.join(work.path, "outside");
    mkdirSync(outside);
    await ciab(["sandbox", "exec", "daily-web", "--", "sh", "-c", `ln -s ${outside} project/escape && mkdir project/empty`]);
    const down = await ciab(["sandbox", "cp", "daily-web:project", "fetched"]);
    expect(down.code, down.stderr).toBe(0);
    const { lstatSync, readlinkSync, readdirSync } = await import("node:fs");
    expect(readFileSync(path.join(work.path, "fetched", "README"), "utf8")).toBe("read me\n");
    expect(lstatSync(path.join(work.path, "fetched", "bin", "tool")).mode & 0o777).toBe(0o750);
    expect(readlinkSync(path.join(work.path, "fetched", "tool"))).toBe("bin/tool");
    expect(readlinkSync(path.join(work.path, "fetched", "escape"))).toBe(outside);
    expect(lstatSync(path.join(work.path, "fetched", "empty")).isDirectory()).toBe(true);
    expect(readdirSync(outside)).toEqual([]);
  });
});
