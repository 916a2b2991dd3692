import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createAgentClient, type AgentClient } from "../../server/src/agent-channel/agent-client.js";
import { startAgentd, type RunningAgentd } from "./testing/start-agentd.js";

let agentd: RunningAgentd;
let client: AgentClient;

beforeAll(async () => {
  agentd = await startAgentd();
  client = createAgentClient({ connect: () => agentd.connect() });
  await writeFile(path.join(agentd.directory, "secret"), "outside the workspace");
  await symlink("/etc", path.join(agentd.workspaceRoot, "evil"));
  await symlink("..", path.join(agentd.workspaceRoot, "up"));
});

afterAll(async () => {
  client.close();
  await agentd.stop();
});

const errorCode = (promise: Promise<unknown>) => promise.then(() => "ok", (error: { code?: string }) => error.code);

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("files", () => {
  test("write, stat, read, list, rename, remove", async () => {
    const written = await client.writeFile("notes/a.txt", "hello", 0o600);
    expect(written).toMatchObject({ path: "/workspace/notes/a.txt", name: "a.txt", type: "file", size: 5, mode: 0o600 });
    expect(await client.stat("/workspace/notes/a.txt")).toMatchObject({ size: 5, type: "file" });

    const file = await client.readFile("notes/a.txt");
    expect(file).toMatchObject({ size: 5, mode: 0o600 });
    expect((await readAll(file.stream)).toString()).toBe("hello");

    await client.writeFile("notes/deep/b.txt", Buffer.from("b"));
    expect((await client.listFiles("notes")).map((entry) => entry.path)).toEqual(["/workspace/notes/a.txt", "/workspace/notes/deep"]);
    expect((await client.listFiles("/workspace/notes", 2)).map((entry) => entry.path)).toEqual([
      "/workspace/notes/a.txt",
      "/workspace/notes/deep",
      "/workspace/notes/deep/b.txt",
    ]);

    expect(await client.rename({ from: "notes/a.txt", to: "notes/c.txt" })).toMatchObject({ path: "/workspace/notes/c.txt" });
    expect(await errorCode(client.stat("notes/a.txt"))).toBe("file_not_found");
    expect(await errorCode(client.remove({ path: "notes" }))).toBe("directory_not_empty");
    await client.remove({ path: "notes", recursive: true });
    expect(await errorCode(client.stat("notes"))).toBe("file_not_found");
  });

  test("mkdir, and the errors of the file routes", async () => {
    expect(await client.mkdir({ path: "made", mode: 0o750 })).toMatchObject({ type: "dir", path: "/workspace/made" });
    expect(await errorCode(client.mkdir({ path: "made" }))).toBe("already_exists");
    expect(await client.mkdir({ path: "made", parents: true })).toMatchObject({ type: "dir" });
    await client.writeFile("made/file", "x");
    expect(await errorCode(client.listFiles("made/file"))).toBe("not_a_directory");
    expect(await errorCode(client.writeFile("made/file/child", "x"))).toBe("not_a_directory");
    expect(await errorCode(client.readFile("made"))).toBe("is_a_directory");
    expect(await errorCode(client.writeFile("made", "x"))).toBe("is_a_directory");
    expect(await errorCode(client.readFile("missing.txt"))).toBe("file_not_found");
    expect(await errorCode(client.stat("a\0b"))).toBe("invalid_path");
    expect(await errorCode(client.stat(""))).toBe("invalid_path");
    expect(await errorCode(client.listFiles("/workspace", 11))).toBe("invalid_request");
    expect(await errorCode(client.remove({ path: "/workspace", recursive: true }))).toBe("invalid_path");
  });

  test("refuses `..` escapes and absolute paths outside /workspace", async () => {
    expect(await errorCode(client.readFile("../secret"))).toBe("path_outside_sandbox");
    expect(await errorCode(client.readFile("/workspace/../secret"))).toBe("path_outside_sandbox");
    expect(await errorCode(client.readFile("/etc/passwd"))).toBe("path_outside_sandbox");
    expect(await errorCode(client.writeFile("../planted", "x"))).toBe("path_outside_sandbox");
    expect(await errorCode(client.listFiles("/"))).toBe("path_outside_sandbox");
  });

  test("refuses to read, write or list through a symlink that leaves the root", async () => {
    expect(await errorCode(client.readFile("evil/passwd"))).toBe("path_outside_sandbox");
    expect(await errorCode(client.listFiles("evil"))).toBe("path_outside_sandbox");
    expect(await errorCode(client.listFiles("up"))).toBe("path_outside_sandbox");
    expect(await errorCode(client.readFile("up/secret"))).toBe("path_outside_sandbox");
    expect(await errorCode(client.writeFile("up/planted", "x"))).toBe("path_outside_sandbox");
    expect(await errorCode(client.writeFile("evil/ciab-planted", "x"))).toBe("path_outside_sandbox");
    expect(await errorCode(client.mkdir({ path: "up/planted-dir" }))).toBe("path_outside_sandbox");
    await expect(stat(path.join(agentd.directory, "planted"))).rejects.toThrow();

    // Dangling links are followed too: writing must not create the file they point to.
    await symlink(path.join(agentd.directory, "created-through-link"), path.join(agentd.workspaceRoot, "dangling"));
    expect(await errorCode(client.writeFile("dangling", "x"))).toBe("path_outside_sandbox");
    await expect(stat(path.join(agentd.directory, "created-through-link"))).rejects.toThrow();

    // The links themselves are visible, and listing the root does not descend into them.
    expect(await client.stat("evil")).toMatchObject({ type: "symlink", symlinkTarget: "/etc" });
    const listed = await client.listFiles("/workspace", 3);
    expect(listed.find((entry) => entry.path === "/workspace/evil")).toMatchObject({ type: "symlink" });
    expect(listed.some((entry) => entry.path.startsWith("/workspace/evil/"))).toBe(false);
  });

  test("follows symlinks that stay inside the root", async () => {
    await mkdir(path.join(agentd.workspaceRoot, "real"), { recursive: true });
    await symlink("real", path.join(agentd.workspaceRoot, "alias"));
    await client.writeFile("alias/through.txt", "via link");
    expect(await readFile(path.join(agentd.workspaceRoot, "real/through.txt"), "utf8")).toBe("via link");
    expect((await client.listFiles("alias")).map((entry) => entry.path)).toEqual(["/workspace/alias/through.txt"]);
    await client.remove({ path: "alias" });
    expect(await readFile(path.join(agentd.workspaceRoot, "real/through.txt"), "utf8")).toBe("via link");
  });

  test("streams a 50 MB upload and download without buffering it in agentd", async () => {
    const size = 50 * 1024 * 1024;
    const chunk = randomBytes(1024 * 1024);
    const expected = createHash("sha256");
    for (let index = 0; index < 50; index += 1) expected.update(chunk);
    const digest = expected.digest("hex");
    const before = await agentd.memoryKiB();

    const upload = Readable.from(
      (function* () {
        for (let index = 0; index < 50; index += 1) yield chunk;
      })(),
    );
    const entry = await client.writeFile("big.bin", upload);
    expect(entry.size).toBe(size);
    const onDisk = createHash("sha256");
    for await (const part of createReadStream(path.join(agentd.workspaceRoot, "big.bin"))) onDisk.update(part as Buffer);
    expect(onDisk.digest("hex")).toBe(digest);

    const file = await client.readFile("big.bin");
    expect(file.size).toBe(size);
    const downloaded = createHash("sha256");
    let received = 0;
    for await (const part of file.stream) {
      downloaded.update(part as Buffer);
      received += (part as Buffer).length;
    }
    expect(received).toBe(size);
    expect(downloaded.digest("hex")).toBe(digest);

    const after = await agentd.memoryKiB();
    const grownMiB = (after.peak - before.peak) / 1024;
    console.log(`agentd peak RSS ${Math.round(before.peak / 1024)} MiB → ${Math.round(after.peak / 1024)} MiB over a 50 MB round trip`);
    // V8 lets some 32 MB of spent Buffers pile up before it collects them, so the peak grows whatever we
    // do; holding the file (or both copies) would grow it by the file's size or more.
    expect(grownMiB).toBeLessThan(size / 1024 / 1024);
  });

  test("a failed upload leaves no temp file behind", async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(64 * 1024));
        this.destroy(new Error("source broke"));
      },
    });
    await expect(client.writeFile("partial.bin", failing)).rejects.toThrow();
    await expect.poll(async () => (await client.listFiles("/workspace")).filter((entry) => entry.name.includes("partial")).length).toBe(0);
  });
});
