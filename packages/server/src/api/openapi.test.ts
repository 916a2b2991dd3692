import { statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../../../../test/harness/test-server.js";

describe("the API's own description and first start", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local" } });
  });
  afterAll(async () => server?.close());

  test("OpenAPI 3.1 document, without auth, listing every route", async () => {
    const response = await fetch(`${server.url}/api/v1/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toBe("3.1.0");
    for (const route of ["/sandboxes", "/sandboxes/{id}", "/sandboxes/{id}/exec", "/sandboxes/{id}/exec/stream",
      "/sandboxes/{id}/files", "/sandboxes/{id}/files/upload", "/sandboxes/{id}/ports", "/sandboxes/{id}/processes",
      "/admin/usage", "/images", "/images/build", "/images/builds/{build_id}", "/images/builds/{build_id}/logs",
      "/images/builds/{build_id}/cancel", "/images/{image_id}"]) {
      expect(Object.keys(document.paths), route).toContain(`/api/v1${route}`);
    }
    const paths = document.paths as Record<string, Record<string, { responses: Record<string, unknown>; parameters?: { name: string }[] }>>;
    expect(Object.keys(paths["/api/v1/sessions"]!.post!.responses)).toContain("429");
    expect(paths["/api/v1/admin/usage"]!.get!.parameters!.map((parameter) => parameter.name)).toEqual(["from", "to", "group_by", "workspace_id"]);
  });

  test("health needs no token", async () => {
    const response = await fetch(`${server.url}/api/v1/health`);
    expect(await response.json()).toMatchObject({ status: "ok" });
  });

  test("the admin token file is private and the token is stored hashed", async () => {
    expect(statSync(`${server.dataDirectory}/admin-token`).mode & 0o777).toBe(0o600);
    const Database = (await import("better-sqlite3")).default;
    const database = new Database(`${server.dataDirectory}/ciab.db`, { readonly: true });
    const hashes = database.prepare("select hash from tokens").all() as { hash: string }[];
    database.close();
    expect(hashes.map((row) => row.hash)).not.toContain(server.token);
    expect(server.token).toMatch(/^ciab_/);
  });

  test("sandbox env values are sealed at rest", async () => {
    const created = await server.api("POST", "/sandboxes", { env: { SECRET_VALUE: "hunter2-plaintext" } });
    expect(created.status).toBe(201);
    const Database = (await import("better-sqlite3")).default;
    const database = new Database(`${server.dataDirectory}/ciab.db`, { readonly: true });
    const row = database.prepare("select * from sandboxes where id = ?").get(created.body.id);
    database.close();
    expect(JSON.stringify(row)).not.toContain("hunter2-plaintext");
  });

  test("a disabled runtime is refused with the list of enabled ones", async () => {
    const answer = await server.api("POST", "/sandboxes", { runtime: "docker" });
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toContain("enabled: local");
  });
});
