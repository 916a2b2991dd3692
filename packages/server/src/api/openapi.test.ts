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
      "/admin/usage", "/budget", "/volumes", "/volumes/{id}", "/images", "/images/build", "/images/builds/{build_id}",
      "/images/builds/{build_id}/logs", "/images/builds/{build_id}/cancel", "/images/{image_id}"]) {
      expect(Object.keys(document.paths), route).toContain(`/api/v1${route}`);
    }
    const paths = document.paths as Record<string, Record<string, { responses: Record<string, unknown>; parameters?: { name: string }[] }>>;
    expect(Object.keys(paths["/api/v1/sessions"]!.post!.responses)).toContain("429");
    expect(paths["/api/v1/admin/usage"]!.get!.parameters!.map((parameter) => parameter.name)).toEqual(["from", "to", "group_by", "workspace_id"]);
  });

  test("every operation has an operationId, a declared tag, its edge errors; health, raw bodies and examples are in", async () => {
    type Operation = {
      operationId?: string;
      tags?: string[];
      security?: unknown[];
      parameters?: { name: string; in: string }[];
      requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
      responses: Record<string, unknown>;
    };
    const document = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as {
      servers: unknown[];
      tags: { name: string }[];
      paths: Record<string, Record<string, Operation>>;
      components: { schemas: Record<string, { example?: unknown }> };
    };
    expect(document.servers.length).toBeGreaterThan(0);
    const declared = new Set(document.tags.map((tag) => tag.name));
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
    );
    const ids = operations.map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, operation } of operations) {
      const where = `${method} ${path}`;
      expect(operation.operationId, where).toBeTruthy();
      expect(operation.tags?.length, where).toBe(1);
      expect(declared.has(operation.tags![0]!), where).toBe(true);
      expect(Object.keys(operation.responses), where).toContain("500");
      if (operation.security?.length !== 0) expect(Object.keys(operation.responses), where).toContain("401");
      if (operation.requestBody?.content["application/json"]) expect(Object.keys(operation.responses), where).toContain("415");
    }
    const health = document.paths["/api/v1/health"]!.get!;
    expect(health).toMatchObject({ security: [], tags: ["server"] });
    for (const path of ["/api/v1/sandboxes/{id}/files/upload", "/api/v1/sandboxes/{id}/processes/{pid}/stdin"]) {
      const operation = Object.values(document.paths[path]!)[0]!;
      expect(Object.keys(operation.requestBody!.content), path).toEqual(["application/octet-stream"]);
    }
    const listParameters = document.paths["/api/v1/sandboxes"]!.get!.parameters!.map((parameter) => parameter.name);
    expect(listParameters).toEqual(["all", "state", "tag"]);
    expect(Object.keys(document.paths["/api/v1/sandboxes"]!.post!.responses)).toEqual(expect.arrayContaining(["422", "429"]));
    expect(document.components.schemas.CreateSandbox!.example).toBeDefined();
    expect(document.components.schemas.ExecRequest!.example).toBeDefined();
  });

  test("list routes refuse query parameters they do not know", async () => {
    for (const path of ["/sandboxes?colour=red", "/sessions?colour=red", "/secrets?colour=red", "/artifacts?colour=red", "/snapshots?colour=red"]) {
      const answer = await server.api("GET", path);
      expect(answer.status, path).toBe(400);
      expect(answer.body.error, path).toMatchObject({ code: "invalid_request" });
      expect(answer.body.error.message, path).toContain("colour");
    }
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
