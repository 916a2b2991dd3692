import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createHash } from "node:crypto";
import http from "node:http";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { decodeJwt } from "jose";
import WebSocket from "ws";
import { Ciab, type Session } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { previewAppSource } from "./preview-app.js";
import { cookieFrom, pathOf, previewRequest, serverTokens, waitForPort } from "./preview-client.js";

const appPort = 8080;
const execFileAsync = promisify(execFile);
const cli = fileURLToPath(new URL("../../packages/cli/bin/ciab.mjs", import.meta.url));

describe.each(["local", "docker"] as const)("previews of a server in a %s sandbox", (runtime) => {
  let server: TestServer;
  let ciab: Ciab;
  let session: Session;
  let url: string;
  let cookie: string;
  let workspaceID: string;

  beforeAll(async () => {
    server = await startTestServer({ env: { CIAB_PREVIEWS_DOMAIN: "preview.test", CIAB_PREVIEWS_MAX_STREAMS_PER_SESSION: "4" } });
    ciab = new Ciab({ url: server.url, token: server.token });
    const sandbox = await ciab.sandboxes.create({ runtime });
    await sandbox.files.write("/workspace/app.js", previewAppSource);
    session = await ciab.sessions.create({ provider: "shell", sandbox_id: sandbox.id, prompt: `exec /opt/ciab/bin/node /workspace/app.js ${appPort}` });
    url = (await waitForPort(ciab, session.id, appPort)).url;
    workspaceID = String(decodeJwt(new URL(url).searchParams.get("token")!).wid);
  });
  afterAll(async () => {
    await server?.close();
  });

  test("the signed URL turns into a path-scoped cookie, and the page's relative asset loads with it", async () => {
    expect(pathOf(url)).toMatch(new RegExp(`^/sandbox/preview/${session.id}/${appPort}/\\?token=`));
    const first = await previewRequest(server.url, pathOf(url));
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe(`/sandbox/preview/${session.id}/${appPort}/`);
    const setCookie = first.headers["set-cookie"]![0]!;
    expect(setCookie).toContain(`Path=/sandbox/preview/${session.id}/${appPort}/`);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    expect(setCookie).toMatch(/Max-Age=(59\d|600)/);
    cookie = cookieFrom(first.headers, "ciab_preview")!;

    const page = await previewRequest(server.url, first.headers.location!, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain("hello preview");
    // The app's own cookie passes; one named like ours is dropped, so the app cannot replace the token.
    expect(page.headers["set-cookie"]).toEqual(["app=1; Path=/"]);
    const asset = new URL("style.css", `http://x${first.headers.location}`).pathname;
    const css = await previewRequest(server.url, asset, { headers: { cookie } });
    expect(css.status).toBe(200);
    expect(css.body.toString()).toContain("teal");
    expect((await previewRequest(server.url, asset)).status).toBe(401);

    const noSlash = await previewRequest(server.url, `/sandbox/preview/${session.id}/${appPort}?token=abc`);
    expect(noSlash.status).toBe(301);
    expect(noSlash.headers.location).toBe(`/sandbox/preview/${session.id}/${appPort}/?token=abc`);
  });

  test("the sandbox never sees our token, our cookie or the caller's Authorization", async () => {
    const seen = await previewRequest(server.url, `/sandbox/preview/${session.id}/${appPort}/seen?a=1`, {
      headers: { cookie: `theirs=1; ${cookie}`, authorization: `Bearer ${server.token}` },
    });
    expect(seen.status).toBe(200);
    const { url: seenURL, headers } = JSON.parse(seen.body.toString());
    expect(seenURL).toBe("/seen?a=1");
    expect(headers.authorization).toBeUndefined();
    expect(headers.cookie).toBe("theirs=1");
    expect(headers["x-forwarded-prefix"]).toBe(`/sandbox/preview/${session.id}/${appPort}`);
    expect(JSON.stringify(headers)).not.toContain(cookie.split("=")[1]!);

    // A POST that carries the token in its query is served directly, the token removed.
    const token = new URL(url).searchParams.get("token")!;
    const posted = await previewRequest(server.url, `/sandbox/preview/${session.id}/${appPort}/seen?token=${token}&b=2`, { method: "POST", body: "x" });
    expect({ status: posted.status, body: posted.body.toString() }).toMatchObject({ status: 200 });
    expect(JSON.parse(posted.body.toString()).url).toBe("/seen?b=2");
  });

  test("a POST streams both ways: echoed bytes come back while the body is still being sent", async () => {
    const base = new URL(server.url);
    const piece = Buffer.alloc(256 * 1024, 7);
    const rounds = 8;
    const echoed = await new Promise<{ digest: string; interleaved: boolean }>((resolve, reject) => {
      const request = http.request({
        host: base.hostname,
        port: base.port,
        method: "POST",
        path: `/sandbox/preview/${session.id}/${appPort}/echo`,
        headers: { cookie, "content-type": "application/octet-stream" },
        agent: false,
      });
      const hash = createHash("sha256");
      let received = 0;
      let sent = 0;
      let interleaved = false;
      const sendNext = () => {
        if (sent === rounds) return request.end();
        sent += 1;
        request.write(piece);
      };
      request.once("response", (response) => {
        response.on("data", (chunk: Buffer) => {
          hash.update(chunk);
          received += chunk.length;
          if (sent < rounds) interleaved = true;
          if (received >= sent * piece.length) sendNext();
        });
        response.once("end", () => resolve({ digest: hash.digest("hex"), interleaved }));
      });
      request.once("error", reject);
      request.flushHeaders();
      sendNext();
    });
    expect(echoed.interleaved).toBe(true);
    expect(echoed.digest).toBe(createHash("sha256").update(Buffer.concat(Array.from({ length: rounds }, () => piece))).digest("hex"));

    const download = await previewRequest(server.url, `/sandbox/preview/${session.id}/${appPort}/bytes?mib=3`, { headers: { cookie } });
    expect(download.status).toBe(200);
    expect(download.body.length).toBe(3 * 1024 * 1024);
  });

  test("WebSockets pass through (with the cookie or the query token); streams per session are capped", async () => {
    const wsBase = server.url.replace(/^http/, "ws") + `/sandbox/preview/${session.id}/${appPort}/socket`;
    const open = (options: { cookie?: string; query?: string }) =>
      new Promise<WebSocket>((resolve, reject) => {
        const socket = new WebSocket(wsBase + (options.query ?? ""), { headers: options.cookie ? { cookie: options.cookie } : {} });
        socket.once("open", () => resolve(socket));
        socket.once("error", reject);
        socket.once("unexpected-response", (_request, response) => reject(new Error(`status ${response.statusCode}`)));
      });
    const echo = (socket: WebSocket, text: string) =>
      new Promise<string>((resolve) => {
        socket.once("message", (data) => resolve(String(data)));
        socket.send(text);
      });
    const sockets = [await open({ cookie }), await open({ query: `?token=${new URL(url).searchParams.get("token")}` })];
    expect(await echo(sockets[0]!, "hot reload")).toBe("hot reload");
    expect(await echo(sockets[1]!, "again")).toBe("again");
    sockets.push(await open({ cookie }), await open({ cookie }));
    await expect(open({ cookie })).rejects.toThrow("status 429");
    const closing = sockets.pop()!;
    await new Promise((resolve) => (closing.once("close", resolve), closing.close()));
    let freed: WebSocket | undefined;
    for (let attempt = 0; attempt < 50 && !freed; attempt += 1) {
      freed = await open({ cookie }).catch(async () => void (await new Promise((resolve) => setTimeout(resolve, 100))));
    }
    sockets.push(freed!);
    expect(await echo(sockets.at(-1)!, "freed")).toBe("freed");
    await Promise.all(sockets.map((socket) => new Promise((resolve) => (socket.once("close", resolve), socket.close()))));
    await expect(open({})).rejects.toThrow("status 401");
    // Every slot comes back once the sockets closed: the next tests need them.
    let status = 429;
    for (let attempt = 0; attempt < 50 && status === 429; attempt += 1) {
      status = (await previewRequest(server.url, `/sandbox/preview/${session.id}/${appPort}/style.css`, { headers: { cookie } })).status;
      if (status === 429) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
  });

  test("expired, tampered, wrong-port and wrong-session tokens are refused with typed errors", async () => {
    const path = `/sandbox/preview/${session.id}/${appPort}/`;
    const tokens = serverTokens(server.dataDirectory, () => Date.now() - 3_600_000);
    const expired = (await tokens.sign({ sessionID: session.id, port: appPort, workspaceID })).token;
    const valid = new URL(url).searchParams.get("token")!;
    const tampered = valid.slice(0, -2) + (valid.endsWith("AA") ? "BB" : "AA");
    const cases = [
      { target: path, token: expired, status: 401, code: "preview_token_invalid" },
      { target: path, token: tampered, status: 401, code: "preview_token_invalid" },
      { target: `/sandbox/preview/${session.id}/8081/`, token: valid, status: 403, code: "preview_token_scope" },
      { target: `/sandbox/preview/ses_00000000000000000000000000/${appPort}/`, token: valid, status: 403, code: "preview_token_scope" },
    ];
    for (const { target, token, status, code } of cases) {
      const answer = await previewRequest(server.url, target, { headers: { cookie: `ciab_preview=${token}` } });
      expect({ target, status: answer.status, code: JSON.parse(answer.body.toString()).error.code }).toEqual({ target, status, code });
    }
  });

  test("a port nothing listens on answers 502 preview_unreachable at once", async () => {
    const { token } = await serverTokens(server.dataDirectory).sign({ sessionID: session.id, port: 8099, workspaceID });
    const started = Date.now();
    const answer = await previewRequest(server.url, `/sandbox/preview/${session.id}/8099/`, { headers: { cookie: `ciab_preview=${token}` } });
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body.toString()).error.code).toBe("preview_unreachable");
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  test("header sizes are bounded both ways", async () => {
    const huge = await previewRequest(server.url, `/sandbox/preview/${session.id}/${appPort}/huge-header`, { headers: { cookie } });
    expect(huge.status).toBe(502);
    expect(JSON.parse(huge.body.toString()).error.code).toBe("preview_unreachable");
    const tooLarge = await previewRequest(server.url, `/sandbox/preview/${session.id}/${appPort}/seen`, { headers: { cookie, "x-big": "b".repeat(20 * 1024) } });
    expect(tooLarge.status).toBe(431);
    expect((await previewRequest(server.url, `/sandbox/preview/${session.id}/${appPort}/style.css`, { headers: { cookie } })).status).toBe(200);
  });

  test("a preview host selects session and port by Host, with a host-scoped cookie", async () => {
    const [port] = await ciab.sessions.ports(session.id);
    expect(port!.host_url).toMatch(new RegExp(`^http://${appPort}-${session.id}\\.preview\\.test/\\?token=`));
    const host = `${appPort}-${session.id}.preview.test:${new URL(server.url).port}`;
    const first = await previewRequest(server.url, pathOf(port!.host_url!), { headers: { host } });
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe("/");
    expect(first.headers["set-cookie"]![0]).toMatch(/Path=\/;/);
    expect(first.headers["set-cookie"]![0]).not.toMatch(/Domain=/i);
    const hostCookie = cookieFrom(first.headers, "ciab_preview")!;
    const seen = await previewRequest(server.url, "/seen", { headers: { host, cookie: hostCookie } });
    expect(seen.status).toBe(200);
    expect(JSON.parse(seen.body.toString()).url).toBe("/seen");
    const other = await previewRequest(server.url, "/seen", { headers: { host: `8081-${session.id}.preview.test`, cookie: hostCookie } });
    expect(other.status).toBe(403);
  });

  test("ciab session ports prints the listening ports with signed URLs", async () => {
    // The server runs in this process: the CLI must run beside it, not block it.
    const run = (args: string[]) => execFileAsync(process.execPath, [cli, ...args], { env: { ...process.env, CIAB_URL: server.url, CIAB_TOKEN: server.token }, timeout: 60_000 });
    const json = await run(["session", "ports", session.id, "--json"]);
    const { ports } = JSON.parse(json.stdout);
    expect(ports).toEqual([expect.objectContaining({ port: appPort, url: expect.stringContaining(`/sandbox/preview/${session.id}/${appPort}/?token=`) })]);
    const table = await run(["session", "ports", session.id]);
    expect(table.stdout).toMatch(new RegExp(`^PORT\\s+URL\\s+HOST URL\\s+EXPIRES\\n${appPort}\\s+http://`));
  });

  test("the sandbox's port list leaves out agentd's relay to the model gateway, as the session's does", async () => {
    const listed = await server.api("GET", `/sandboxes/${session.sandbox_id}/ports`);
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect([...new Set(listed.body.ports.map((entry: { port: number }) => entry.port))]).toEqual([appPort]);
  });

  test("once the session ended its previews answer 410 session_ended", async () => {
    await ciab.sessions.cancel(session.id);
    for (let attempt = 0; attempt < 50 && !["completed", "failed", "cancelled"].includes((await ciab.sessions.get(session.id)).state); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const answer = await previewRequest(server.url, `/sandbox/preview/${session.id}/${appPort}/`, { headers: { cookie } });
    expect(answer.status).toBe(410);
    expect(JSON.parse(answer.body.toString()).error.code).toBe("session_ended");
    expect((await server.api("GET", `/sessions/${session.id}/ports`)).body.error.code).toBe("session_ended");
  });
});
