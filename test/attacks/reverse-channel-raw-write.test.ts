import { PassThrough } from "node:stream";
import { afterAll, beforeAll, expect, test } from "vitest";
import WebSocket from "ws";
import { writeRaw } from "../../packages/server/src/agent-channel/raw-write.js";
import { startReverseControlPlane, type ReverseControlPlane } from "../harness/reverse-control-plane.js";
import { testDependencies } from "../runtimes/test-dependencies.js";

/**
 * A hostile agentd on the reverse channel (ec2, fargate) takes a raw write and then leaves: it closes its
 * WebSocket, or drops it without a close. The upload must fail within bounds, never hang the request.
 */
const dependencies = testDependencies("fargate");
let controlPlane: ReverseControlPlane;

beforeAll(async () => {
  controlPlane = await startReverseControlPlane(dependencies);
});

afterAll(async () => {
  await controlPlane?.close();
  dependencies.removeDataDirectory();
});

/** Dials one agent socket for `sandboxID` as agentd does; `onGreeting` sees the raw write's first bytes. */
async function hostileAgent(sandboxID: string, onGreeting: (webSocket: WebSocket) => void): Promise<WebSocket> {
  const token = controlPlane.hub.issueToken(sandboxID, 60_000);
  const webSocket = new WebSocket(controlPlane.hub.channelURL(sandboxID, "agent"), { headers: { authorization: `Bearer ${token}` } });
  webSocket.on("error", () => undefined);
  await new Promise((resolve, reject) => webSocket.once("open", resolve).once("error", reject));
  webSocket.once("message", () => onGreeting(webSocket));
  return webSocket;
}

const leaving: Array<[string, (webSocket: WebSocket) => void]> = [
  ["closes its WebSocket", (webSocket) => webSocket.close(1000)],
  ["closes it as too big a message", (webSocket) => webSocket.close(1009)],
  ["drops the connection", (webSocket) => webSocket.terminate()],
];

for (const [how, leave] of leaving) {
  test(`an agentd that answers READY and then ${how} fails the upload within bounds`, async () => {
    const sandboxID = `sbx_attack${Math.random().toString(36).slice(2, 10)}`;
    await hostileAgent(sandboxID, (webSocket) => {
      webSocket.send(Buffer.from(`READY ${sandboxID}\n`));
      setTimeout(() => leave(webSocket), 50);
    });
    // A body that arrives slowly, as a client's upload does: some before the agent left, the rest after.
    const length = 4 * 1024 * 1024;
    const stream = new PassThrough();
    const feeding = (async () => {
      for (let sent = 0; sent < length && !stream.destroyed; sent += 256 * 1024) {
        stream.write(Buffer.alloc(256 * 1024, "b"));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      stream.end();
    })();
    const started = Date.now();
    const outcome = await writeRaw(() => controlPlane.hub.take(sandboxID, 5_000), sandboxID, "/workspace/a", undefined, { stream, length }, AbortSignal.timeout(30_000)).then(
      () => "written",
      (error: { code?: string; name?: string }) => error.code ?? error.name,
    );
    await feeding;
    expect(outcome).toBe("agent_unreachable");
    expect(Date.now() - started).toBeLessThan(5_000);
  });
}

test("an agentd that takes the whole body and then closes its WebSocket without an answer fails the upload at once", async () => {
  const sandboxID = `sbx_attack${Math.random().toString(36).slice(2, 10)}`;
  const length = 64 * 1024;
  await hostileAgent(sandboxID, (webSocket) => {
    let received = 0;
    webSocket.on("message", (data: Buffer) => {
      received += data.length;
      if (received >= length) webSocket.close(1000);
    });
    webSocket.send(Buffer.from(`READY ${sandboxID}\n`));
  });
  const started = Date.now();
  const outcome = await writeRaw(() => controlPlane.hub.take(sandboxID, 5_000), sandboxID, "/workspace/a", undefined, { stream: new PassThrough().end(Buffer.alloc(length, "b")), length }, AbortSignal.timeout(90_000)).then(
    () => "written",
    (error: { code?: string; name?: string }) => error.code ?? error.name,
  );
  expect(outcome).toBe("agent_unreachable");
  // Not the 60 s an answer may take once the body is sent: the agent is gone, and the channel says so.
  expect(Date.now() - started).toBeLessThan(5_000);
}, 90_000);
