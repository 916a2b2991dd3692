import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, expect, test } from "vitest";
import { rawWriteGreeting } from "@ciab/protocol";
import { createAgentServer, type AgentServer } from "../../../agentd/src/agent-server.js";
import { connectUnixSocket } from "../../../agentd/src/testing/start-agentd.js";
import { createAgentClient } from "./agent-client.js";
import { RawWriteUnavailable, writeRaw } from "./raw-write.js";

let directory: string;
let workspace: string;
let agentd: AgentServer;
const connect = () => connectUnixSocket(path.join(directory, "a.sock"));

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), "ciab-raw-write-"));
  workspace = path.join(directory, "ws");
  await import("node:fs/promises").then((fs) => fs.mkdir(workspace));
  agentd = await createAgentServer({ workspaceRoot: workspace, sandboxID: "sbx_raw" });
  await agentd.listen(path.join(directory, "a.sock"));
});

afterAll(async () => {
  await agentd.close();
  await rm(directory, { recursive: true, force: true });
});

/** `data` in pieces, failing after `failAfter` bytes when given. */
function bodyOf(data: Buffer, failAfter?: number): Readable {
  let offset = 0;
  return new Readable({
    read() {
      if (failAfter !== undefined && offset >= failAfter) {
        this.destroy(new Error("client went away"));
        return;
      }
      const piece = data.subarray(offset, offset + 100_000);
      offset += piece.length;
      this.push(piece.length > 0 ? piece : null);
    },
  });
}

async function leftovers(): Promise<string[]> {
  return (await readdir(workspace)).filter((name) => name.includes(".ciab-"));
}

test("a sized upload is written whole over a raw connection, with its mode; zero bytes too", async () => {
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const entry = await writeRaw(connect, "sbx_raw", "/workspace/big.bin", 0o640, { stream: bodyOf(data), length: data.length });
  expect(entry).toMatchObject({ size: data.length });
  expect((await readFile(path.join(workspace, "big.bin"))).equals(data)).toBe(true);
  expect((await stat(path.join(workspace, "big.bin"))).mode & 0o777).toBe(0o640);
  const empty = await writeRaw(connect, "sbx_raw", "/workspace/empty", undefined, { stream: bodyOf(Buffer.alloc(0)), length: 0 });
  expect(empty).toMatchObject({ size: 0 });
  // Through the client, which takes the raw way for a sized body.
  const client = createAgentClient({ connect, expectedSandboxID: "sbx_raw" });
  await client.writeFile("/workspace/via-client", { stream: bodyOf(Buffer.from("hello")), length: 5 });
  expect(await readFile(path.join(workspace, "via-client"), "utf8")).toBe("hello");
  client.close();
});

test("another sandbox's agent gets none of the body, and the client's channel check refuses it", async () => {
  const body = bodyOf(Buffer.from("secret"));
  await expect(writeRaw(connect, "sbx_other", "/workspace/x", undefined, { stream: body, length: 6 })).rejects.toBeInstanceOf(RawWriteUnavailable);
  expect(body.readableFlowing).toBe(null);
  const client = createAgentClient({ connect, expectedSandboxID: "sbx_other" });
  await expect(client.writeFile("/workspace/x", { stream: bodyOf(Buffer.from("secret")), length: 6 })).rejects.toMatchObject({ code: "agent_unreachable" });
  client.close();
  await expect(stat(path.join(workspace, "x"))).rejects.toThrow();
});

test("a body cut short leaves the old file as it was and no temp file", async () => {
  await writeFile(path.join(workspace, "kept"), "old");
  const data = randomBytes(2 * 1024 * 1024);
  await expect(writeRaw(connect, "sbx_raw", "/workspace/kept", undefined, { stream: bodyOf(data, 500_000), length: data.length })).rejects.toThrow("client went away");
  await expect.poll(leftovers).toEqual([]);
  expect(await readFile(path.join(workspace, "kept"), "utf8")).toBe("old");
});

test("paths outside the workspace are the channel's typed errors", async () => {
  await expect(writeRaw(connect, "sbx_raw", "/etc/passwd", undefined, { stream: bodyOf(Buffer.from("x")), length: 1 })).rejects.toMatchObject({ code: expect.stringMatching(/path|invalid/) });
});

/** Speaks the raw write to agentd by hand: what a control plane that misbehaves would send. */
async function rawExchange(greeting: string, body: Buffer): Promise<string> {
  const socket = net.connect(path.join(directory, "a.sock"));
  let answer = "";
  socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
  socket.write(greeting);
  socket.write(body);
  await new Promise((resolve) => socket.once("close", resolve));
  return answer;
}

test("agentd refuses a malformed greeting, and a body longer than declared, leaving nothing", async () => {
  expect(await rawExchange(`${rawWriteGreeting}12 777777 /workspace/y\n`, Buffer.alloc(0))).toMatch(/^ERR invalid_request /);
  expect(await rawExchange(`${rawWriteGreeting}${"9".repeat(20_000)}`, Buffer.alloc(0))).toMatch(/^ERR invalid_request /);
  expect(await rawExchange(`${rawWriteGreeting}3 - /workspace/longer\n`, Buffer.from("abcdef"))).toMatch(/^READY sbx_raw\nERR invalid_request /);
  await expect(stat(path.join(workspace, "longer"))).rejects.toThrow();
  await expect.poll(leftovers).toEqual([]);
});

test("an agent that answers with no line, or no entry, is agent_unreachable within bounds", async () => {
  const fake = net.createServer((socket) => {
    socket.once("data", () => socket.write("READY sbx_raw\n"));
    socket.on("data", (chunk: Buffer) => {
      if (chunk.includes("end-of-body")) socket.write(Buffer.alloc(100_000, 65));
    });
    socket.on("error", () => undefined);
  });
  const fakePath = path.join(directory, "fake.sock");
  await new Promise<void>((resolve) => fake.listen(fakePath, resolve));
  try {
    const body = Buffer.from("end-of-body");
    await expect(writeRaw(() => connectUnixSocket(fakePath), "sbx_raw", "/workspace/z", undefined, { stream: bodyOf(body), length: body.length })).rejects.toMatchObject({
      code: "agent_unreachable",
    });
  } finally {
    fake.close();
  }
});
