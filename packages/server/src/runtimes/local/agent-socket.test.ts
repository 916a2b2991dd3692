import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { agentSocketAddress, connectUnixSocket, removeAgentSocketLink } from "./agent-socket.js";

const root = mkdtempSync(path.join(os.tmpdir(), "ciab-socket-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("agent sockets", () => {
  test("a short path is used as it is", async () => {
    expect(await agentSocketAddress("/run/x/agentd.sock")).toBe("/run/x/agentd.sock");
  });

  test("a path past 107 bytes is reached through a short symlink", async () => {
    const directory = path.join(root, "d".repeat(60), "e".repeat(60), "run");
    mkdirSync(directory, { recursive: true });
    const socketPath = path.join(directory, "agentd.sock");
    const address = await agentSocketAddress(socketPath);
    expect(Buffer.byteLength(address)).toBeLessThanOrEqual(107);
    // bind through the link too, as agentd does when isolation is off
    const server = net.createServer((socket) => socket.end("hello"));
    await new Promise<void>((resolve) => server.listen(address, resolve));
    try {
      const duplex = await connectUnixSocket(socketPath);
      const text = await new Promise<string>((resolve) => {
        let data = "";
        duplex.on("data", (chunk: Buffer) => (data += chunk.toString()));
        duplex.on("end", () => resolve(data));
      });
      expect(text).toBe("hello");
    } finally {
      server.close();
      await removeAgentSocketLink(socketPath);
    }
  });

  test("connecting where nothing listens rejects at once, retryably", async () => {
    await expect(connectUnixSocket(path.join(root, "absent.sock"))).rejects.toMatchObject({
      code: "agent_unreachable",
      retryable: true,
    });
  });
});
