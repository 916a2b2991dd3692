import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Duplex } from "node:stream";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createAgentClient } from "../../server/src/agent-channel/agent-client.js";
import { createAgentServer, type AgentServer } from "./agent-server.js";

/** Two in-memory duplexes wired to each other: a stand-in for an SSH channel or a WebSocket stream. */
function duplexPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const make = (index: number): Duplex =>
    new Duplex({
      read() {},
      write(chunk, _encoding, callback) {
        sides[1 - index]!.push(chunk);
        callback();
      },
      final(callback) {
        sides[1 - index]!.push(null);
        callback();
      },
    });
  sides.push(make(0), make(1));
  return [sides[0]!, sides[1]!];
}

let directory: string;
let server: AgentServer;

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), "ciab-agent-server-"));
  server = await createAgentServer({ workspaceRoot: directory });
});

afterAll(async () => {
  await server.close();
  await rm(directory, { recursive: true, force: true });
});

test("serves the agent channel over any duplex, not only sockets", async () => {
  const client = createAgentClient({
    connect: async () => {
      const [near, far] = duplexPair();
      server.serveAgentConnection(far);
      return near;
    },
  });
  try {
    expect((await client.health()).workspaceRoot).toBe(directory);
    await client.writeFile("hello.txt", "over a plain duplex");
    expect((await client.exec({ command: ["cat", "hello.txt"] })).stdout).toBe("over a plain duplex");
  } finally {
    client.close();
  }
});
