import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createSilentLogger } from "../../packages/server/src/logger.js";
import { ReverseChannelHub } from "../../packages/server/src/runtimes/ec2/reverse-hub.js";
import { dialChannel, listenForChannels, type ChannelListener } from "../harness/reverse-channel-dial.js";

// The control plane's end of the reverse channel, dialed over real WebSockets on loopback, with no instance:
// which credentials open which sandbox's channel.
let listener: ChannelListener;
let hub: ReverseChannelHub;
let now = Date.now();

beforeAll(async () => {
  listener = await listenForChannels({ node: process.execPath, agentd: "/nonexistent", toolsDirectory: "/nonexistent" });
  hub = new ReverseChannelHub({ publicURL: listener.publicURL, dataDirectory: "/nonexistent", logger: createSilentLogger(), now: () => now });
  listener.use(hub);
});

afterAll(async () => {
  hub.close();
  await listener.close();
});

describe("the reverse channel's credentials", () => {
  test("a one-time token opens its sandbox's channel once and hands back a secret that works after it", async () => {
    const token = hub.issueToken("sbx_a1", 60_000);
    const first = await dialChannel(hub.channelURL("sbx_a1", "agent"), token);
    expect(first.status).toBe(101);
    expect(first.secret).toMatch(/^ciabcs_/);
    const replayed = await dialChannel(hub.channelURL("sbx_a1", "agent"), token);
    expect(replayed).toMatchObject({ status: 401, body: { error: { code: "unauthorized", context: { reason: "replayed" } } } });
    const again = await dialChannel(hub.channelURL("sbx_a1", "agent"), first.secret!);
    expect(again).toEqual({ status: 101 });
    expect(hub.secretHashOf("sbx_a1")).toMatch(/^[0-9a-f]{64}$/);
    expect(hub.secretHashOf("sbx_a1")).not.toContain(first.secret!.slice(7));
  });

  test("an expired token is refused", async () => {
    const token = hub.issueToken("sbx_a2", 1_000);
    now += 1_001;
    const answer = await dialChannel(hub.channelURL("sbx_a2", "agent"), token);
    expect(answer).toMatchObject({ status: 401, body: { error: { code: "unauthorized", context: { reason: "expired" } } } });
  });

  test("sandbox A's token or secret cannot open sandbox B's channel", async () => {
    const tokenA = hub.issueToken("sbx_a3", 60_000);
    const tokenB = hub.issueToken("sbx_b3", 60_000);
    const claimed = await dialChannel(hub.channelURL("sbx_b3", "agent"), tokenA);
    expect(claimed).toMatchObject({ status: 401, body: { error: { context: { reason: "other_sandbox" } } } });
    const { secret } = await dialChannel(hub.channelURL("sbx_a3", "gateway"), tokenA);
    expect((await dialChannel(hub.channelURL("sbx_b3", "agent"), tokenB)).status).toBe(101);
    const crossed = await dialChannel(hub.channelURL("sbx_b3", "agent"), secret!);
    expect(crossed).toMatchObject({ status: 401, body: { error: { context: { reason: "bad_secret" } } } });
  });

  test("a forgotten sandbox's secret, an unknown token and a malformed path are refused", async () => {
    const { secret } = await dialChannel(hub.channelURL("sbx_a4", "agent"), hub.issueToken("sbx_a4", 60_000));
    hub.forget("sbx_a4");
    expect((await dialChannel(hub.channelURL("sbx_a4", "agent"), secret!)).body?.error.context?.reason).toBe("unknown_sandbox");
    expect((await dialChannel(hub.channelURL("sbx_a4", "agent"), "ciabot_made-up")).body?.error.context?.reason).toBe("unknown_token");
    expect((await dialChannel(`${listener.publicURL.replace("http", "ws")}/agent-channel/sbx_a4/shell`, secret!)).status).toBe(404);
    expect((await dialChannel(`${listener.publicURL.replace("http", "ws")}/agent-channel/..%2f/agent`, secret!)).status).toBe(404);
  });
});

describe("the reverse channel's bounds", () => {
  /** Opens a socket with `credential` and keeps it; resolves once open, with the code it is later closed with. */
  const keep = (url: string, credential: string) =>
    new Promise<{ webSocket: WebSocket; closed: Promise<number> }>((resolve, reject) => {
      const webSocket = new WebSocket(url, { headers: { authorization: `Bearer ${credential}` } });
      const closed = new Promise<number>((done) => webSocket.once("close", (code) => done(code)));
      webSocket.once("open", () => resolve({ webSocket, closed }));
      webSocket.once("error", reject);
    });

  test("a sandbox keeps at most 16 agent sockets, and a message over 1 MiB closes its socket", async () => {
    const url = hub.channelURL("sbx_bounds", "agent");
    const { secret } = await dialChannel(url, hub.issueToken("sbx_bounds", 60_000));
    const kept = await Promise.all(Array.from({ length: 16 }, () => keep(url, secret!)));
    try {
      const extra = await keep(url, secret!);
      expect(await extra.closed).toBe(1013);
      kept[0]!.webSocket.send(Buffer.alloc(1024 * 1024 + 1));
      expect(await kept[0]!.closed).toBe(1009);
    } finally {
      for (const { webSocket } of kept) webSocket.terminate();
    }
  });
});
