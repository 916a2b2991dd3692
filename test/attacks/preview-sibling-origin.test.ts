import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { previewAppSource } from "../previews/preview-app.js";
import { cookieFrom, pathOf, previewRequest, waitForPort } from "../previews/preview-client.js";

/**
 * Previews on hosts of one `[previews] domain` are one site: the viewer's host-scoped, SameSite=Lax cookie
 * for session B goes with requests a page of session A makes to B's host (fetch, form POST, WebSocket). A
 * is another tenant's agent; what it sends carries an Origin naming A's preview host.
 */
describe("a page of one session's preview calling another session's preview host", () => {
  let server: TestServer;
  let sessionID: string;
  let host: string;
  let cookie: string;
  let port: string;

  beforeAll(async () => {
    server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local", CIAB_RUNTIME_BACKEND: "local", CIAB_PREVIEWS_DOMAIN: "preview.test" } });
    port = new URL(server.url).port;
    const ciab = new Ciab({ url: server.url, token: server.token });
    const sandbox = await ciab.sandboxes.create({ runtime: "local" });
    await sandbox.files.write("/workspace/app.js", previewAppSource);
    const session = await ciab.sessions.create({ provider: "shell", sandbox_id: sandbox.id, prompt: "exec /opt/ciab/bin/node /workspace/app.js 8080" });
    sessionID = session.id;
    const hostURL = (await waitForPort(ciab, sessionID, 8080)).host_url!;
    host = `8080-${sessionID}.preview.test:${port}`;
    const first = await previewRequest(server.url, pathOf(hostURL), { headers: { host } });
    expect(first.status).toBe(302);
    cookie = cookieFrom(first.headers, "ciab_preview")!;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  const sibling = () => `http://3000-ses_${"a".repeat(26)}.preview.test:${port}`;

  function upgrade(origin: string): Promise<number | "open"> {
    return new Promise((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { host, cookie }, origin });
      socket.once("open", () => {
        socket.close();
        resolve("open");
      });
      socket.once("unexpected-response", (_request, response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      socket.once("error", () => resolve(0));
    });
  }

  test("a request or WebSocket whose Origin is another session's preview host is refused; the session's own pass", async () => {
    const fromSibling = await previewRequest(server.url, "/seen", { method: "POST", headers: { host, cookie, origin: sibling() } });
    expect(fromSibling.status).toBe(403);
    expect(JSON.parse(fromSibling.body.toString()).error.code).toBe("forbidden");
    expect(await upgrade(sibling())).toBe(403);

    // Its own host, another port of the same session (a front end calling its API), or no Origin at all.
    for (const origin of [`http://${host}`, `http://3000-${sessionID}.preview.test:${port}`, undefined]) {
      const answer = await previewRequest(server.url, "/seen", { headers: { host, cookie, ...(origin && { origin }) } });
      expect(answer.status, origin).toBe(200);
    }
    expect(await upgrade(`http://${host}`)).toBe("open");
  });
});
