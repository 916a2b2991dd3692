import http from "node:http";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

let server: TestServer;
let token: string;
let ciab: Ciab;

beforeAll(async () => {
  server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local" } });
  token = (await server.api("POST", "/workspaces", { name: "team-readers", role: "member" })).body.token;
  ciab = new Ciab({ url: server.url, token });
});

afterAll(async () => {
  await server?.close();
});

/** An SSE reader that reads nothing until `resume`, then collects the event ids to the end. */
function stalledReader(sessionID: string) {
  let response: http.IncomingMessage | undefined;
  const ready = new Promise<void>((resolve) => {
    http.get(`${server.url}/api/v1/sessions/${sessionID}/events`, { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" } }, (answer) => {
      answer.pause();
      response = answer;
      resolve();
    });
  });
  return {
    ready,
    async resume(): Promise<number[]> {
      await ready;
      const chunks: Buffer[] = [];
      for await (const chunk of response!) chunks.push(chunk as Buffer);
      return [...Buffer.concat(chunks).toString().matchAll(/^id: ?(\d+)$/gm)].map((match) => Number(match[1]));
    },
  };
}

test("readers of a session's events that stop reading cost the server a bounded amount of memory, and miss nothing", { timeout: 60_000 }, async () => {
  const created = await ciab.sessions.create({
    runtime: "local",
    provider: "shell",
    prompt: "sleep 1; for i in $(seq 1 1500); do head -c 50000 /dev/zero | tr '\\0' a; echo; done",
  });
  const readers = Array.from({ length: 4 }, () => stalledReader(created.id));
  await Promise.all(readers.map((reader) => reader.ready));
  const heapBefore = process.memoryUsage().heapUsed;
  let heapPeak = heapBefore;
  for (let check = 0; check < 200; check += 1) {
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    if ((await ciab.sessions.get(created.id)).state === "completed") break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect((await ciab.sessions.get(created.id)).state).toBe("completed");
  // 75 MB of output: held once per stalled reader, the four would pin far more than this.
  expect(heapPeak - heapBefore).toBeLessThan(80 * 1024 * 1024);
  const ids = await readers[0]!.resume();
  expect(ids.length).toBeGreaterThan(1500);
  expect(ids).toEqual(ids.map((_, index) => index + 1));
});
