import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/** A TCP listener that counts connections: a refused clone must never reach it. */
async function countingListener(host: string): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { port: (server.address() as AddressInfo).port, connections: () => connections, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A port on `host` that nothing listens on (bound, then released). */
async function closedPort(host: string): Promise<number> {
  const listener = await countingListener(host);
  await listener.close();
  return listener.port;
}

const sameErrorFor = (body: { error: { code: string; message: string } }, host: string) => ({
  code: body.error.code,
  message: body.error.message.replaceAll(host, "HOST"),
});

describe("repository URLs inside the host's or the cloud's network are refused when the session is made", () => {
  let server: TestServer;
  let open: Awaited<ReturnType<typeof countingListener>>;
  let closed: number;
  beforeAll(async () => {
    server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local" } });
    open = await countingListener("127.0.0.1");
    closed = await closedPort("127.0.0.1");
  });
  afterAll(async () => {
    await open?.close();
    await server?.close();
  });

  test("loopback (open and closed ports), metadata, names resolving to loopback and IPv6 spellings: one error, no connection", async () => {
    const cases = [
      { url: `http://127.0.0.1:${open.port}/repo.git`, host: "127.0.0.1" },
      { url: `http://127.0.0.1:${closed}/repo.git`, host: "127.0.0.1" },
      { url: `https://localhost:${open.port}/repo.git`, host: "localhost" },
      { url: `http://localhost:${closed}/repo.git`, host: "localhost" },
      { url: `http://[::ffff:127.0.0.1]:${open.port}/repo.git`, host: "::ffff:7f00:1" },
      { url: `http://2130706433:${open.port}/repo.git`, host: "127.0.0.1" },
      { url: `ssh://git@127.0.0.1:${open.port}/repo.git`, host: "127.0.0.1" },
      { url: `git://localhost:${open.port}/repo.git`, host: "localhost" },
      { url: "git@localhost:repo.git", host: "localhost" },
      { url: "http://169.254.169.254/latest/meta-data/", host: "169.254.169.254" },
      { url: "http://[fd00:ec2::254]/latest/meta-data/", host: "fd00:ec2::254" },
      { url: "http://10.0.0.1/repo.git", host: "10.0.0.1" },
      { url: "http://100.64.0.1/repo.git", host: "100.64.0.1" },
    ];
    const errors = new Set<string>();
    const timings: number[] = [];
    for (const { url, host } of cases) {
      const started = performance.now();
      const answer = await server.api("POST", "/sessions", { provider: "shell", prompt: "true", repo: { url } });
      timings.push(performance.now() - started);
      expect(answer.status, url).toBe(403);
      errors.add(JSON.stringify(sameErrorFor(answer.body, host)));
    }
    expect([...errors]).toHaveLength(1);
    expect(JSON.parse([...errors][0]!)).toMatchObject({ code: "forbidden", message: expect.stringContaining("[policy]") });
    expect(open.connections()).toBe(0);
    expect(Math.max(...timings)).toBeLessThan(2_000);
    expect((await server.api("GET", "/sessions")).body.sessions).toEqual([]);
  });
});

describe("a redirect is not followed, wherever it points", () => {
  let server: TestServer;
  let ciab: Ciab;
  let redirector: http.Server;
  let redirectorPort: number;
  let target: Awaited<ReturnType<typeof countingListener>>;
  let closedTarget: number;
  let redirectTo = "";
  beforeAll(async () => {
    // The redirecting server is on the allow-list; where it points is not.
    server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local", CIAB_POLICY_OUTBOUND_ALLOW: "127.0.0.1" } });
    ciab = new Ciab({ url: server.url, token: server.token });
    target = await countingListener("127.0.0.2");
    closedTarget = await closedPort("127.0.0.2");
    redirector = http.createServer((_, response) => response.writeHead(302, { location: redirectTo }).end());
    await new Promise<void>((resolve) => redirector.listen(0, "127.0.0.1", resolve));
    redirectorPort = (redirector.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => redirector?.close(resolve));
    await target?.close();
    await server?.close();
  });

  async function failureOf(url: string) {
    const session = await ciab.sessions.create({ provider: "shell", runtime: "local", prompt: "true", repo: { url } });
    const events: SessionEvent[] = [];
    for await (const event of ciab.sessions.follow(session.id)) events.push(event);
    return (await ciab.sessions.get(session.id)).failure;
  }

  test("to a loopback port that is open and to one that is closed: the same refusal, and the target never sees a connection", async () => {
    const failures = [];
    for (const port of [target.port, closedTarget]) {
      redirectTo = `http://127.0.0.2:${port}/repo.git/info/refs?service=git-upload-pack`;
      failures.push(await failureOf(`http://127.0.0.1:${redirectorPort}/repo.git`));
    }
    expect(failures[0]).toEqual(failures[1]);
    expect(failures[0]).toMatchObject({ reason: "forbidden", message: expect.stringContaining("redirects are not followed") });
    expect(target.connections()).toBe(0);
  });
});
