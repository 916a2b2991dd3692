import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureWebBuild } from "@ciab/web/build";
import { launchChromium, type TestBrowser } from "../harness/chromium.js";
import { startTestServer, type ApiAnswer, type TestServer } from "../harness/test-server.js";

/** A team lead steers agents from the UI: held tool calls approved and denied, the audit trail read. */
describe("the web UI's approvals and audit", () => {
  let server: TestServer;
  let browser: TestBrowser;
  let adminToken: string;
  let memberToken: string;
  let sandboxID: string;
  let sessionID: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    const [, started, launched] = await Promise.all([ensureWebBuild(), startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local", CIAB_RUNTIME_BACKEND: "local" } }), launchChromium()]);
    server = started;
    browser = launched;
    const team = await server.api("POST", "/workspaces", { name: "steering", role: "admin" });
    adminToken = team.body.token;
    memberToken = (await server.api("POST", `/workspaces/${team.body.workspace.id}/users`, { name: "mia", role: "member" }, { token: adminToken })).body.token;
    sandboxID = (await server.api("POST", "/sandboxes", { runtime: "local" }, { token: memberToken })).body.id;
    sessionID = (await server.api("POST", "/sessions", { provider: "shell", sandbox_id: sandboxID, prompt: "sleep 600" }, { token: memberToken })).body.id;
  });
  afterAll(async () => {
    if (sandboxID) await server?.api("DELETE", `/sandboxes/${sandboxID}`, undefined, { token: adminToken });
    await browser?.close();
    await server?.close();
  });

  /** The member's write outside /workspace, held by the default rule; with `wait`, it answers once decided. */
  const heldWrite = (file: string, wait: boolean): Promise<ApiAnswer> =>
    server.api("POST", `/sessions/${sessionID}/tools/write_file${wait ? "?wait_secs=60" : ""}`, { path: file, content: "from the agent" }, { token: memberToken });

  async function openPage(token: string, options: { watchConsole: boolean } = { watchConsole: true }): Promise<Page> {
    const page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
    if (options.watchConsole) {
      page.on("console", (message) => {
        if (message.type() === "error") consoleErrors.push(`${page.url()}: ${message.text()}`);
      });
      page.on("pageerror", (error) => consoleErrors.push(`${page.url()}: ${error.message}`));
    }
    await page.goto(`${server.url}/`);
    await page.getByLabel("API token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByTestId("whoami").count()).toBe(1);
    return page;
  }

  test("a held call shows in the nav and on the approvals page, as text; approved there, the waiting call finishes", async () => {
    const page = await openPage(adminToken);
    const waiting = heldWrite("/tmp/<img src=x onerror=window.pwned=1>.txt", true);
    await expect.poll(() => page.getByTestId("approvals-badge").textContent(), { timeout: 10_000 }).toBe("1");

    await page.getByRole("link", { name: "Approvals" }).click();
    const row = page.locator("tr[data-approval-id]");
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.locator("td").first().textContent()).toBe("write_file");
    expect(await row.locator("pre.summary").textContent()).toContain('"path": "/tmp/<img src=x onerror=window.pwned=1>.txt"');
    expect(await row.textContent()).toContain(sessionID);
    expect(await row.textContent()).not.toContain("from the agent");

    await row.getByRole("button", { name: "Approve" }).click();
    const done = await waiting;
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toMatchObject({ path: "/tmp/<img src=x onerror=window.pwned=1>.txt" });
    await expect.poll(() => page.getByTestId("approval-decided").textContent()).toBe("write_file call approved · succeeded");
    await expect.poll(() => row.count()).toBe(0);
    await expect.poll(() => page.getByTestId("approvals-badge").count()).toBe(0);
    expect(await page.evaluate("window.pwned")).toBeUndefined();
    await page.close();
  });

  test("the session's page shows its own held call; denied there, the call ends approval_denied", async () => {
    const page = await openPage(adminToken);
    const waiting = heldWrite("/tmp/denied.txt", true);
    await page.goto(`${server.url}/sessions/${sessionID}`);
    await expect.poll(() => page.getByTestId("session-state").textContent(), { timeout: 15_000 }).toBe("running");
    const row = page.locator("tr[data-approval-id]");
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    expect(await row.locator("pre.summary").textContent()).toContain("/tmp/denied.txt");

    const note = "no writes to /tmp; use /workspace/out <b>as text</b>";
    await row.getByRole("textbox", { name: "Note to the agent" }).fill(note);
    await row.getByRole("button", { name: "Deny" }).click();
    const refused = await waiting;
    expect([refused.status, refused.body.error?.code]).toEqual([403, "approval_denied"]);
    expect(refused.body.error?.message).toMatch(/: no writes to \/tmp; use \/workspace\/out <b>as text<\/b>$/);
    await expect.poll(() => page.getByTestId("approval-decided").textContent()).toBe(`write_file call denied · note: ${note}`);
    await expect.poll(() => row.count()).toBe(0);
    const exists = await server.api("POST", `/sessions/${sessionID}/tools/shell`, { cmd: "test -e /tmp/denied.txt && echo yes || echo no" }, { token: memberToken });
    expect(exists.body.stdout).toBe("no\n");
    await page.close();
  });

  test("a member sees their own held call; deciding it shows the API's refusal and leaves it waiting", async () => {
    // The 403 is logged by Chromium as a failed resource load: this page's console is not watched.
    const page = await openPage(memberToken, { watchConsole: false });
    const held = await heldWrite("/tmp/member.txt", false);
    expect(held.status).toBe(202);
    await page.getByRole("link", { name: "Approvals" }).click();
    const row = page.locator(`tr[data-approval-id="${held.body.approval.id}"]`);
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    await row.getByRole("button", { name: "Approve" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("(forbidden)");
    expect(await row.count()).toBe(1);
    expect((await server.api("GET", `/approvals/${held.body.approval.id}`, undefined, { token: adminToken })).body.state).toBe("pending");
    expect((await server.api("POST", `/approvals/${held.body.approval.id}/deny`, undefined, { token: adminToken })).status).toBe(200);
    await page.close();
  });

  test("the audit page lists the calls and the decisions, filtered by session from the session's page", async () => {
    const page = await openPage(adminToken);
    await page.goto(`${server.url}/sessions/${sessionID}`);
    await page.getByRole("link", { name: "Audit trail of this session" }).click();
    await page.waitForURL(/\/audit\?session_id=ses_/);
    const rows = page.locator("tr[data-audit-id]");
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(7);
    const tools = await rows.locator("td:nth-child(3)").allTextContents();
    const results = await rows.locator("td:nth-child(5)").allTextContents();
    const lines = tools.map((tool, index) => `${tool}:${results[index]}`);
    expect(lines).toEqual(expect.arrayContaining(["write_file:approval_pending", "approval.approve:ok", "write_file:ok", "approval.deny:ok", "shell:ok"]));
    expect(await page.getByRole("textbox", { name: "Session" }).inputValue()).toBe(sessionID);
    expect((await rows.locator("td:nth-child(4)").allTextContents()).every((text) => text === sessionID || text === "–")).toBe(true);
    expect(await page.locator("table").textContent()).not.toContain("from the agent");

    // Past a page (100 entries), Load more brings the rest after the first page.
    for (let batch = 0; batch < 10; batch += 1) {
      const calls = Array.from({ length: 10 }, () => server.api("POST", `/sessions/${sessionID}/tools/list_files`, { path: "/workspace" }, { token: memberToken }));
      expect((await Promise.all(calls)).map((answer) => answer.status)).toEqual(Array(10).fill(200));
    }
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(100);
    await page.getByRole("button", { name: "Load more" }).click();
    const all = await server.api("GET", `/audit?session_id=${sessionID}&limit=1000`, undefined, { token: adminToken });
    await expect.poll(() => rows.count()).toBe(all.body.entries.length);
    expect(await page.getByRole("button", { name: "Load more" }).count()).toBe(0);
    expect(await rows.last().locator("td:nth-child(3)").textContent()).toBe("list_files");

    await page.getByRole("textbox", { name: "Session" }).fill("ses_none");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => page.locator(".empty").textContent()).toBe("No entries.");
    await page.close();
  });

  test("no page logged a console error (CSP violations among them)", () => {
    expect(consoleErrors).toEqual([]);
  });
});
