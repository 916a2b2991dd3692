import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureWebBuild } from "@ciab/web/build";
import { Ciab } from "../../packages/sdk/src/index.js";
import { launchChromium, type TestBrowser } from "../harness/chromium.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { waitForPort } from "../previews/preview-client.js";

/**
 * The agent's page on a path-based preview (no `[previews] domain`): the UI's own origin. It reports what it
 * could reach to its server in the sandbox, which writes the reports to a file the test reads. Its page
 * claims the whole origin for a service worker (`Service-Worker-Allowed: /`) and opens the UI in a window
 * of its own to script it, from a page with no opener policy and from one with the UI's.
 */
const hostileAppSource = String.raw`
const http = require("node:http");
const fs = require("node:fs");
const page = (variant) => '<!doctype html><title>preview</title><script>const variant = "' + variant + '";(' + function main() {
  const report = (what, value) => fetch("report?" + new URLSearchParams({ what, value: String(value) }), { method: "POST" });
  if (variant === "plain") {
    report("sessionStorage", sessionStorage.getItem("ciab.token"));
    navigator.serviceWorker.register("sw.js", { scope: "/" }).then(() => report("worker", "registered"), (error) => report("worker", "refused " + error.name));
    window.open("matching", "_blank");
  }
  const opened = window.open("/sandboxes", "_blank");
  setTimeout(() => {
    let seen;
    try {
      seen = opened.document.querySelector("#token") ? "scriptable" : "scriptable-no-form";
    } catch (error) {
      seen = "blocked " + error.name;
    }
    report("opened-" + variant, opened === null ? "null" : opened.closed ? "severed" : seen);
  }, 3000);
}.toString() + ')();</script>';
const worker = 'self.addEventListener("install", () => self.skipWaiting());' +
  'self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));' +
  'self.addEventListener("fetch", (event) => { const value = event.request.headers.get("authorization");' +
  ' if (value) fetch(new URL("report?what=authorization&value=" + encodeURIComponent(value), self.location), { method: "POST" }); });';
http.createServer((request, response) => {
  const url = new URL(request.url, "http://x");
  if (url.pathname === "/") return response.writeHead(200, { "content-type": "text/html" }).end(page("plain"));
  if (url.pathname === "/matching") return response.writeHead(200, { "content-type": "text/html", "cross-origin-opener-policy": "same-origin" }).end(page("matching"));
  if (url.pathname === "/sw.js") return response.writeHead(200, { "content-type": "text/javascript", "service-worker-allowed": "/" }).end(worker);
  if (url.pathname === "/report") {
    fs.appendFileSync("/workspace/reports.jsonl", JSON.stringify(Object.fromEntries(url.searchParams)) + "\n");
    return response.writeHead(204).end();
  }
  response.writeHead(404).end();
}).listen(Number(process.argv[2]), "127.0.0.1");
`;

describe("a path-based preview against the UI on the same origin", () => {
  let server: TestServer;
  let browser: TestBrowser;
  let sandboxID: string;
  let sessionID: string;

  beforeAll(async () => {
    const [, started, launched] = await Promise.all([
      ensureWebBuild(),
      startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local", CIAB_RUNTIME_BACKEND: "local" } }),
      launchChromium(),
    ]);
    server = started;
    browser = launched;
    const ciab = new Ciab({ url: server.url, token: server.token });
    const sandbox = await ciab.sandboxes.create({ runtime: "local" });
    sandboxID = sandbox.id;
    await sandbox.files.write("/workspace/app.js", hostileAppSource);
    const session = await ciab.sessions.create({ provider: "shell", sandbox_id: sandbox.id, prompt: "exec /opt/ciab/bin/node /workspace/app.js 8080" });
    sessionID = session.id;
    await waitForPort(ciab, sessionID, 8080);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function reports(): Promise<Array<{ what: string; value: string }>> {
    const answer = await server.api("POST", `/sandboxes/${sandboxID}/exec`, { command: "cat /workspace/reports.jsonl 2>/dev/null || true" });
    return String(answer.body.stdout)
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { what: string; value: string });
  }

  async function signedInPage(): Promise<Page> {
    const page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(`${server.url}/sessions/${sessionID}`);
    await page.getByLabel("API token").fill(server.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByTestId("whoami").count()).toBe(1);
    return page;
  }

  test("the agent's page reads no token, claims no worker over the UI, and cannot script a UI window it opens", async () => {
    const ui = await signedInPage();
    const link = ui.getByRole("link", { name: "port 8080" });
    await expect.poll(() => link.count(), { timeout: 15_000 }).toBe(1);
    expect(await ui.locator("li", { has: link }).textContent()).toContain("set [previews] domain");
    const [preview] = await Promise.all([browser.context.waitForEvent("page"), link.click()]);
    const expected = ["opened-plain", "opened-matching", "sessionStorage", "worker"];
    await expect
      .poll(async () => {
        const seen = (await reports()).map((entry) => entry.what);
        return expected.filter((what) => !seen.includes(what));
      }, { timeout: 20_000 })
      .toEqual([]);
    const all = await reports();
    const found = Object.fromEntries(all.map((entry) => [entry.what, entry.value]));
    // The link opens without an opener: the new tab starts with no copy of the UI tab's sessionStorage.
    expect(found.sessionStorage, JSON.stringify(all)).toBe("null");
    expect(found.worker, JSON.stringify(all)).toMatch(/^refused/);
    // Opened without an opener policy, or with the UI's own: either way the UI's window is out of reach.
    expect(found["opened-plain"], JSON.stringify(all)).not.toMatch(/^scriptable/);
    expect(found["opened-matching"], JSON.stringify(all)).not.toMatch(/^scriptable/);

    // Opened as a background tab (Ctrl+click), the preview gets no copy of the tab's sessionStorage either.
    await link.click({ modifiers: ["Control"] });
    await expect
      .poll(async () => (await reports()).filter((entry) => entry.what === "sessionStorage").map((entry) => entry.value), { timeout: 15_000 })
      .toEqual(["null", "null"]);

    // The UI, loaded again, is not controlled by any worker of the agent, and its token goes nowhere else.
    await ui.reload();
    await expect.poll(() => ui.getByTestId("whoami").count()).toBe(1);
    expect(await ui.evaluate("navigator.serviceWorker.controller === null")).toBe(true);
    expect((await reports()).filter((entry) => entry.what === "authorization")).toEqual([]);
    await preview.close();
    for (const page of browser.context.pages()) if (page !== ui) await page.close();
    await ui.close();
  }, 60_000);
});
