import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureWebBuild } from "@ciab/web/build";
import { launchChromium, type TestBrowser } from "../harness/chromium.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

const markup = (mark: number) => `<img src=x onerror=window.pwned=${mark}><svg onload=window.pwned=${mark}>`;

/**
 * What a sandbox and its agent control, on every page that shows it: tags, printed output (markup, terminal
 * escapes, a bidi override, a 1 MB line), an artifact's name, type and description. All of it is text.
 */
describe("the web UI showing what a hostile sandbox wrote", () => {
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
    const sandbox = await server.api("POST", "/sandboxes", { runtime: "local", tags: { [markup(1)]: `javascript:window.pwned=2 ${markup(2)}` } });
    expect(sandbox.status, JSON.stringify(sandbox.body)).toBe(201);
    sandboxID = sandbox.body.id;
    const name = `x${markup(3).replaceAll("/", "")}.html`;
    const script = [
      `printf '%s\\n' '${markup(4)}'`,
      `printf '\\033[31mred\\033]0;title\\007 \\342\\200\\256reversed\\n'`,
      "head -c 1000000 /dev/zero | tr '\\0' A; echo",
      `printf '%s' '${markup(5)}' > '${name}'`,
      `bash -lc "ciab-artifact publish '${name}' --mime 'text/html' --description '${markup(6)}'" >/dev/null && echo published`,
    ].join("; ");
    const session = await server.api("POST", "/sessions", { provider: "shell", sandbox_id: sandboxID, prompt: script });
    expect(session.status, JSON.stringify(session.body)).toBe(201);
    sessionID = session.body.id;
    for (let attempt = 0; attempt < 150; attempt += 1) {
      if (["completed", "failed", "cancelled"].includes((await server.api("GET", `/sessions/${sessionID}`)).body.state)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test("no page runs it, builds markup of it, or links to a script URL", async () => {
    const page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${server.url}/sandboxes`);
    await page.getByLabel("API token").fill(server.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByTestId("whoami").count()).toBe(1);

    const pages: Array<[string, string]> = [
      ["/sandboxes", "javascript:window.pwned=2"],
      [`/sandboxes/${sandboxID}`, "javascript:window.pwned=2"],
      ["/sessions", "onerror=window.pwned=4"],
      [`/sessions/${sessionID}`, "published"],
      ["/artifacts", "onerror=window.pwned=3"],
    ];
    for (const [path, shown] of pages) {
      // Client-side navigation (the root tsconfig has no DOM types: the page's code goes as text).
      await page.evaluate(`history.pushState(null, "", ${JSON.stringify(path)}); dispatchEvent(new PopStateEvent("popstate"))`);
      await expect.poll(() => page.locator("main").textContent(), { timeout: 20_000 }).toContain(shown);
      const found = (await page.evaluate(`({
        pwned: window.pwned,
        markup: document.querySelectorAll("main img, main svg, main script, main iframe").length,
        hrefs: Array.from(document.querySelectorAll("a[href]"), (link) => link.getAttribute("href")),
        blankWithoutNoopener: document.querySelectorAll('a[target="_blank"]:not([rel~="noopener"])').length,
      })`)) as { pwned?: number; markup: number; hrefs: string[]; blankWithoutNoopener: number };
      expect(found, path).toMatchObject({ pwned: undefined, markup: 0, blankWithoutNoopener: 0 });
      for (const href of found.hrefs) expect(href, path).toMatch(/^(\/(?!\/)|http:\/\/127\.0\.0\.1:\d+\/)/);
    }
    expect(await page.locator("main").textContent()).toContain("text/html");
    // Should a string ever be handed to a markup sink, the page's CSP (Trusted Types) refuses it.
    expect(await page.evaluate(`try { document.querySelector("main").innerHTML = "<b>x</b>"; "allowed" } catch (error) { error.name }`)).toBe("TypeError");
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});
