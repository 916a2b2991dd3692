import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { webUIRoutes } from "./web-ui.js";

describe("the web UI's static files", () => {
  let parent: string;
  let directory: string;
  let app: Hono;

  beforeAll(() => {
    parent = mkdtempSync(path.join(tmpdir(), "ciab-web-ui-"));
    directory = path.join(parent, "dist");
    mkdirSync(path.join(directory, "assets"), { recursive: true });
    writeFileSync(path.join(directory, "index.html"), "<!doctype html><title>ciab</title>");
    writeFileSync(path.join(directory, "assets", "index-AbC123_x.js"), "console.log(1)");
    writeFileSync(path.join(directory, "favicon.svg"), "<svg/>");
    writeFileSync(path.join(parent, "secret.txt"), "outside");
    symlinkSync(path.join(parent, "secret.txt"), path.join(directory, "link.txt"));
    app = new Hono().route("/", webUIRoutes({ directory }));
    // Registered after the UI: the API's paths still reach it.
    app.get("/api/v1/late", (c) => c.json({ late: true }));
    app.notFound((c) => c.json({ error: { code: "not_found", message: "no route" } }, 404));
  });
  afterAll(() => rmSync(parent, { recursive: true, force: true }));

  test("index.html at / and for client-side routes, uncached, with the security headers", async () => {
    for (const page of ["/", "/sessions/ses_1", "/sandboxes"]) {
      const response = await app.request(page);
      expect(response.status, page).toBe(200);
      expect(await response.text()).toContain("<title>ciab</title>");
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("cache-control")).toBe("no-cache");
      expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("cross-origin-opener-policy")).toBe("same-origin");
      expect(response.headers.get("content-security-policy")).toContain("require-trusted-types-for 'script'; trusted-types 'none'");
    }
  });

  test("hashed assets are cached for long, other files are not", async () => {
    const asset = await app.request("/assets/index-AbC123_x.js");
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(asset.headers.get("cache-control")).toContain("immutable");
    const icon = await app.request("/favicon.svg");
    expect(icon.headers.get("content-type")).toBe("image/svg+xml");
    expect(icon.headers.get("cache-control")).toBe("no-cache");
  });

  test("the server's own paths pass on to their routes, even routes registered later", async () => {
    expect(await (await app.request("/api/v1/late")).json()).toEqual({ late: true });
  });

  test("a missing asset and the server's own paths are 404s, not the page", async () => {
    for (const missing of ["/assets/gone-12345678.js", "/robots.txt", "/api/v1/nothing", "/mcp", "/sandbox/preview/x/1/", "/machine-downloads/x"]) {
      const response = await app.request(missing);
      expect(response.status, missing).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: "not_found" } });
    }
  });

  test("nothing outside the build dir is served, by dots, encoded slashes or links", async () => {
    for (const escape of ["/..%2fsecret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt", "/..%5csecret.txt", "/link.txt", "/%00"]) {
      const response = await app.request(escape);
      expect(await response.text(), escape).not.toContain("outside");
    }
    const dotted = await app.request("http://localhost/../secret.txt");
    expect(await dotted.text()).not.toContain("outside");
  });

  test("hosts of the previews domain get no UI: they are sandboxes' origins", async () => {
    const withDomain = new Hono().route("/", webUIRoutes({ directory, previewDomain: "previews.example.test" }));
    withDomain.notFound((c) => c.json({ error: { code: "not_found", message: "no route" } }, 404));
    for (const host of ["stray.previews.example.test", "PREVIEWS.example.test:8443"]) {
      expect((await withDomain.request("/", { headers: { host } })).status, host).toBe(404);
    }
    expect((await withDomain.request("/", { headers: { host: "ciab.example.test" } })).status).toBe(200);
  });

  test("without a build, / answers how to build the UI", async () => {
    const unbuilt = new Hono().route("/", webUIRoutes({ directory: path.join(parent, "missing") }));
    const response = await unbuilt.request("/");
    expect(response.status).toBe(503);
    expect(await response.text()).toContain("npm run build -w @ciab/web");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
  });
});
