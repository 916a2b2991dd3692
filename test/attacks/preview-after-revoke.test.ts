import http from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { previewAppSource } from "../previews/preview-app.js";
import { cookieFrom, pathOf, previewRequest, waitForPort } from "../previews/preview-client.js";

/**
 * A preview URL or cookie a token was given dies with the token: after a revoke (or the user's removal) it
 * opens nothing, and a preview stream it opened before is cut, like every other request of the token.
 */
describe("a preview after its token is revoked", () => {
  let server: TestServer;
  let owner: string;
  let sessionID: string;

  const api = (method: string, route: string, body?: unknown, token = owner) => server.api(method, route, body, { token });

  async function leaverURL(): Promise<{ id: string; path: string; cookie: string }> {
    const created = await api("POST", "/tokens", { name: `preview-leaver-${Date.now()}` });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const leaver = new Ciab({ url: server.url, token: created.body.token });
    const path = pathOf((await waitForPort(leaver, sessionID, 8080)).url);
    const first = await previewRequest(server.url, path);
    expect(first.status).toBe(302);
    return { id: created.body.id, path, cookie: cookieFrom(first.headers, "ciab_preview")! };
  }

  beforeAll(async () => {
    server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local", CIAB_RUNTIME_BACKEND: "local" } });
    const team = await server.api("POST", "/workspaces", { name: "team-preview-cut", role: "admin" });
    owner = team.body.token;
    const ciab = new Ciab({ url: server.url, token: owner });
    const sandbox = await ciab.sandboxes.create({ runtime: "local" });
    await sandbox.files.write("/workspace/app.js", previewAppSource);
    const session = await ciab.sessions.create({ provider: "shell", sandbox_id: sandbox.id, prompt: "exec /opt/ciab/bin/node /workspace/app.js 8080" });
    sessionID = session.id;
    await waitForPort(ciab, sessionID, 8080);
  });

  afterAll(async () => {
    await server?.close();
  });

  test("the URL and the cookie open nothing after the revoke", async () => {
    const leaver = await leaverURL();
    expect((await api("DELETE", `/tokens/${leaver.id}`)).status).toBe(200);
    const byURL = await previewRequest(server.url, leaver.path);
    expect(byURL.status).toBe(401);
    expect(JSON.parse(byURL.body.toString()).error.code).toBe("preview_token_invalid");
    const byCookie = await previewRequest(server.url, `/sandbox/preview/${sessionID}/8080/style.css`, { headers: { cookie: leaver.cookie } });
    expect(byCookie.status).toBe(401);
  });

  test("a preview download in flight is cut by the revoke", async () => {
    const leaver = await leaverURL();
    const base = new URL(server.url);
    const outcome = await new Promise<{ ended: "end" | "error" | "timeout"; bytes: number }>((resolve) => {
      let bytes = 0;
      const request = http.get(
        { host: base.hostname, port: base.port, path: `/sandbox/preview/${sessionID}/8080/bytes?mib=256`, headers: { cookie: leaver.cookie }, agent: false },
        (response) => {
          expect(response.statusCode).toBe(200);
          response.once("data", () => {
            response.pause();
            void api("DELETE", `/tokens/${leaver.id}`).then(() => setTimeout(() => response.resume(), 300));
          });
          response.on("data", (chunk: Buffer) => (bytes += chunk.length));
          response.once("end", () => resolve({ ended: "end", bytes }));
          response.once("error", () => resolve({ ended: "error", bytes }));
          response.once("aborted", () => resolve({ ended: "error", bytes }));
        },
      );
      request.once("error", () => resolve({ ended: "error", bytes }));
      setTimeout(() => {
        request.destroy();
        resolve({ ended: "timeout", bytes });
      }, 10_000);
    });
    expect(outcome.ended).toBe("error");
    expect(outcome.bytes).toBeLessThan(256 * 1024 * 1024);
  });

  test("the owner's own preview still works", async () => {
    const ciab = new Ciab({ url: server.url, token: owner });
    const own = await previewRequest(server.url, pathOf((await waitForPort(ciab, sessionID, 8080)).url));
    expect(own.status).toBe(302);
  });
});
