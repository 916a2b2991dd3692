import { request as httpRequest } from "node:http";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureWebBuild } from "@ciab/web/build";
import { launchChromium, type TestBrowser } from "../harness/chromium.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/** The built UI in Debian's chromium against a real server on the local runtime (bubblewrap). */
describe("the web UI", () => {
  let server: TestServer;
  let browser: TestBrowser;
  /** Console errors and uncaught exceptions of every page but the bad-token one (its 401 is logged by design). */
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    const [, started, launched] = await Promise.all([ensureWebBuild(), startTestServer(), launchChromium()]);
    server = started;
    browser = launched;
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function openPage(options: { watchConsole: boolean } = { watchConsole: true }): Promise<Page> {
    const page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
    if (options.watchConsole) {
      page.on("console", (message) => {
        if (message.type() === "error") consoleErrors.push(`${page.url()}: ${message.text()}`);
      });
      page.on("pageerror", (error) => consoleErrors.push(`${page.url()}: ${error.message}`));
    }
    return page;
  }

  async function signIn(page: Page, token = server.token): Promise<void> {
    await page.goto(`${server.url}/`);
    await page.getByLabel("API token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
  }

  test("the page comes with its CSP and nosniff; API paths keep their JSON 404; nothing outside the build is served", async () => {
    const page = await fetch(`${server.url}/sessions/ses_0`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");

    expect((await fetch(`${server.url}/api/v1/openapi.json`)).status).toBe(200);
    const api = await fetch(`${server.url}/api/v1/no-such-route`, { headers: { authorization: `Bearer ${server.token}` } });
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ error: { code: "not_found" } });

    for (const escape of ["/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/assets/..%2f..%2f..%2f..%2fetc%2fpasswd", "/..%5c..%5cetc/passwd"]) {
      const answer = await rawGet(server.url, escape);
      expect(answer.body, escape).not.toContain("root:");
    }
  });

  test("a bad token shows the API's error; a token revoked while the page is open signs the tab out", async () => {
    const page = await openPage({ watchConsole: false });
    await signIn(page, "ciab_not_a_real_token");
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/token.*\(unauthorized\)/);
    expect(await page.getByLabel("API token").isVisible()).toBe(true);
    expect(await page.evaluate("[sessionStorage.length, localStorage.length]")).toEqual([0, 0]);

    const created = await server.api("POST", "/tokens", { name: "web-ui-revoked" });
    expect(created.status).toBe(201);
    await page.getByLabel("API token").fill(created.body.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByTestId("whoami").count()).toBe(1);
    expect((await server.api("DELETE", `/tokens/${created.body.id}`)).status).toBe(200);
    // The sandbox list refreshes every few seconds: its first refusal signs out.
    await expect.poll(() => page.locator(".notice").textContent(), { timeout: 10_000 }).toContain("revoked");
    expect(await page.evaluate("sessionStorage.length")).toBe(0);
    await page.close();
  });

  test("sign in, create a sandbox, run a command in it", async () => {
    const page = await openPage();
    await signIn(page);
    await expect.poll(() => page.getByTestId("whoami").textContent()).toContain("admin");
    expect(await page.evaluate("[sessionStorage.length, localStorage.length]")).toEqual([1, 0]);
    expect(page.url()).not.toContain(server.token);

    await page.locator('select[name="runtime"]').selectOption("local");
    await page.locator('input[name="timeout"]').fill("600");
    await page.getByRole("button", { name: "Create sandbox" }).click();
    const row = page.locator("tr[data-sandbox-id]").first();
    await expect.poll(() => row.locator(".state").textContent(), { timeout: 30_000 }).toBe("ready");
    await row.getByRole("link").click();

    await page.getByPlaceholder("ls -la /workspace").fill("echo hello-from-ui; echo oops >&2; exit 3");
    await page.getByRole("button", { name: "Run" }).click();
    await expect.poll(() => page.getByTestId("exit-code").textContent()).toBe("3");
    expect(await page.getByTestId("stdout").textContent()).toBe("hello-from-ui\n");
    expect(await page.getByTestId("stderr").textContent()).toBe("oops\n");

    const sandboxID = page.url().split("/").pop()!;
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Delete sandbox" }).click();
    await page.waitForURL(/\/sandboxes$/);
    await expect.poll(async () => (await server.api("GET", `/sandboxes/${sandboxID}`)).body.state, { timeout: 20_000 }).toMatch(/terminat/);
    await page.close();
  });

  test("a shell session's events arrive live, it cancels, and its artifact downloads", async () => {
    const page = await openPage();
    await signIn(page);
    await page.getByRole("link", { name: "Sessions" }).click();
    await page.locator('select[name="provider"]').selectOption("shell");
    await page.locator('select[name="runtime"]').selectOption("local");
    await page
      .locator('textarea[name="prompt"]')
      .fill(
        "echo '<img src=x onerror=window.pwned=1>'; for i in 1 2 3; do echo tick-$i; sleep 0.2; done; echo rendered-by-ui > report.txt" +
          " && bash -lc 'ciab-artifact publish report.txt --mime text/plain' >/dev/null && echo published; sleep 300",
      );
    await page.getByRole("button", { name: "Start session" }).click();
    await page.waitForURL(/\/sessions\/ses_/);
    const sessionID = page.url().split("/").pop()!;

    // Live: the session is still running (it sleeps) when its output shows.
    await expect.poll(() => page.locator(".timeline").textContent(), { timeout: 30_000 }).toMatch(/tick-1[\s\S]*tick-3[\s\S]*published/);
    expect(await page.getByTestId("session-state").textContent()).toBe("running");
    expect(await page.getByTestId("stream-state").textContent()).toBe("open");
    await expect.poll(() => page.locator("tr[data-artifact-id]").count(), { timeout: 15_000 }).toBe(1);

    // Its sandbox's page lists it; back again, the session's page follows it from the start.
    await page.locator("dd a[href^='/sandboxes/']").click();
    await expect.poll(() => page.locator(`li a[href='/sessions/${sessionID}']`).count()).toBe(1);
    await page.goBack();
    await expect.poll(() => page.locator(".timeline").textContent()).toMatch(/tick-1[\s\S]*published/);

    await page.getByRole("button", { name: "Cancel session" }).click();
    await expect.poll(() => page.getByTestId("session-state").textContent(), { timeout: 20_000 }).toBe("cancelled");
    expect(await page.getByTestId("stream-state").textContent()).toBe("ended");
    expect(await page.locator(".timeline").textContent()).toContain("cancelled");
    expect((await server.api("GET", `/sessions/${sessionID}`)).body.state).toBe("cancelled");
    // What the sandbox printed is text on the page, never markup.
    expect(await page.locator(".timeline").textContent()).toContain("<img src=x onerror=window.pwned=1>");
    expect(await page.evaluate("window.pwned")).toBeUndefined();

    // A reload keeps the tab's token and replays the stored events of the ended session.
    await page.reload();
    await expect.poll(() => page.locator(".timeline").textContent()).toMatch(/tick-1[\s\S]*cancelled/);
    expect(await page.getByTestId("stream-state").textContent()).toBe("ended");

    await page.getByRole("link", { name: "Artifacts" }).click();
    const artifactRow = page.locator("tr[data-artifact-id]").filter({ hasText: "report.txt" });
    await expect.poll(() => artifactRow.count()).toBe(1);
    const [download] = await Promise.all([page.waitForEvent("download"), artifactRow.getByRole("link", { name: "Download" }).click()]);
    expect(download.suggestedFilename()).toBe("report.txt");
    const chunks: Buffer[] = [];
    for await (const chunk of (await download.createReadStream()) as AsyncIterable<Buffer>) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe("rendered-by-ui\n");

    await page.getByRole("link", { name: "Usage" }).click();
    await expect.poll(() => page.getByTestId("usage-total").textContent()).toMatch(/^\$/);
    await expect.poll(() => page.getByTestId("budget").textContent()).toMatch(/^\$\d+\.\d+ spent; no hourly cap is set$/);
    await page.close();
  });

  test("no page logged a console error (CSP violations among them)", () => {
    expect(consoleErrors).toEqual([]);
  });
});

/** A GET with the path as written: fetch would resolve its dots first. */
function rawGet(base: string, rawPath: string): Promise<{ status: number; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: url.hostname, port: url.port, path: rawPath, method: "GET" }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end();
  });
}
