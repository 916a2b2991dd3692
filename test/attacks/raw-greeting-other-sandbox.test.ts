import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createAgentServer, type AgentServer } from "../../packages/agentd/src/agent-server.js";
import { connectUnixSocket } from "../../packages/agentd/src/testing/start-agentd.js";
import { openRawTunnel } from "../../packages/server/src/agent-channel/raw-tunnel.js";
import { RawWriteUnavailable, writeRaw } from "../../packages/server/src/agent-channel/raw-write.js";

/**
 * A jail can swap its agentd socket for a link to another sandbox's (the socket's dir is writable from
 * inside). The control plane finds out from the raw answer (`READY`/`OK <sandboxID>`), but the greeting went
 * first: the other sandbox's agentd must not act on a greeting meant for another sandbox, neither making the
 * upload's parent dirs in its work dir nor connecting to its ports (whose answer would tell the attacker
 * what listens there).
 */
let directory: string;
let victimWorkspace: string;
let victim: AgentServer;
let victimApp: net.Server;
let victimPort: number;
let connections = 0;
const connectVictim = () => connectUnixSocket(path.join(directory, "victim.sock"));

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), "ciab-attack-greeting-"));
  victimWorkspace = path.join(directory, "workspace");
  await mkdir(victimWorkspace);
  victim = await createAgentServer({ workspaceRoot: victimWorkspace, sandboxID: "sbx_victim" });
  await victim.listen(path.join(directory, "victim.sock"));
  victimApp = net.createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => victimApp.listen(0, "127.0.0.1", resolve));
  victimPort = (victimApp.address() as net.AddressInfo).port;
});

afterAll(async () => {
  victimApp?.close();
  await victim?.close();
  await rm(directory, { recursive: true, force: true });
});

test("another sandbox's agentd makes none of a raw write's directories", async () => {
  const body = Readable.from([Buffer.from("planted")]);
  await expect(writeRaw(connectVictim, "sbx_attacker", "/workspace/planted/deep/file", undefined, { stream: body, length: 7 })).rejects.toBeInstanceOf(RawWriteUnavailable);
  await sleep(200);
  expect(await readdir(victimWorkspace)).toEqual([]);
});

test("another sandbox's agentd connects to none of its ports for a raw tunnel, and says nothing of them", async () => {
  for (const port of [victimPort, 1]) {
    await expect(openRawTunnel(connectVictim, "sbx_attacker", port)).rejects.toMatchObject({ code: "agent_unreachable" });
  }
  await sleep(200);
  expect(connections).toBe(0);
  // Its own sandbox still gets both.
  const tunnel = await openRawTunnel(connectVictim, "sbx_victim", victimPort);
  tunnel.destroy();
  await sleep(100);
  expect(connections).toBe(1);
});
