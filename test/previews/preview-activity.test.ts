import { afterAll, beforeAll, expect, test } from "vitest";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { previewAppSource } from "./preview-app.js";
import { cookieFrom, pathOf, previewRequest, waitForPort } from "./preview-client.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let server: TestServer;
let ciab: Ciab;
beforeAll(async () => {
  // 2 s of idleness ends a session; the reaper looks every 0.3 s.
  server = await startTestServer({ env: { CIAB_SESSION_IDLE_TIMEOUT: "2", CIAB_BUDGET_ENFORCE_INTERVAL_SECONDS: "0.3" } });
  ciab = new Ciab({ url: server.url, token: server.token });
});
afterAll(async () => {
  await server?.close();
});

test("preview traffic keeps a silent session from the idle reaper; without it the session is reaped", async () => {
  const sandbox = await ciab.sandboxes.create({ runtime: "local" });
  await sandbox.files.write("/workspace/app.js", previewAppSource);
  const session = await ciab.sessions.create({ provider: "shell", sandbox_id: sandbox.id, prompt: "exec /opt/ciab/bin/node /workspace/app.js 8080" });
  const first = await previewRequest(server.url, pathOf((await waitForPort(ciab, session.id, 8080)).url));
  const cookie = cookieFrom(first.headers, "ciab_preview")!;
  // The app prints nothing: only the preview requests, every 0.4 s for 4 s, count as traffic.
  for (let round = 0; round < 10; round += 1) {
    expect((await previewRequest(server.url, `/sandbox/preview/${session.id}/8080/style.css`, { headers: { cookie } })).status).toBe(200);
    await sleep(400);
  }
  expect((await ciab.sessions.get(session.id)).state).toBe("running");
  let state = "running";
  for (let attempt = 0; attempt < 40 && state === "running"; attempt += 1) {
    await sleep(200);
    state = (await ciab.sessions.get(session.id)).state;
  }
  expect(await ciab.sessions.get(session.id)).toMatchObject({ state: "cancelled", end_reason: "idle_timeout" });
});
