import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { signDownload } from "../../packages/server/src/artifacts/download-signature.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/**
 * A tenant holding a member token, against the E2B adapter (compat/e2b/): names the envd router must not
 * resolve, REST bodies that are not JSON, and the store as a way to sign envd access tokens.
 */
let server: TestServer;
let workspaceID: string;
let apiKey: string;
let sandboxID: string;
let accessToken: string;

beforeAll(async () => {
  server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local" } });
  const tenant = await server.api("POST", "/workspaces", { name: "e2b-tenant", user_name: "mallory", role: "member" });
  expect(tenant.status).toBe(201);
  apiKey = tenant.body.token;
  workspaceID = tenant.body.workspace.id;
  const created = await e2b("POST", "/v2/sandboxes", JSON.stringify({ templateID: "base", timeout: 600 }));
  expect(created.status).toBe(201);
  ({ sandboxID, envdAccessToken: accessToken } = (await created.json()) as { sandboxID: string; envdAccessToken: string });
});
afterAll(async () => {
  // The harness ends the admin's sandboxes; the tenant's are ended here.
  const listed = apiKey ? await e2b("GET", "/v2/sandboxes") : undefined;
  for (const { sandboxID: id } of listed?.ok ? ((await listed.json()) as { sandboxID: string }[]) : []) await e2b("DELETE", `/sandboxes/${id}`);
  await server?.close();
});

function e2b(method: string, route: string, body?: string, contentType = "application/json", key = apiKey): Promise<Response> {
  return fetch(`${server.url}/e2b${route}`, { method, headers: { "x-api-key": key, "content-type": contentType }, ...(body !== undefined && { body }) });
}

function envd(route: string, body: string, token = accessToken, sandbox = sandboxID): Promise<Response> {
  return fetch(`${server.url}/e2b/envd${route}`, {
    method: "POST",
    headers: { "x-access-token": token, "e2b-sandbox-id": sandbox, "content-type": "application/json" },
    body,
  });
}

/** Connect's 5-byte envelope around one JSON message. */
function enveloped(message: unknown): Uint8Array {
  const json = Buffer.from(JSON.stringify(message));
  const framed = Buffer.alloc(5 + json.length);
  framed.writeUInt32BE(json.length, 1);
  json.copy(framed, 5);
  return framed;
}

/** Reads a body to its end or its error within `limitMs`; how it ended. */
async function drain(body: ReadableStream<Uint8Array>, limitMs: number): Promise<"done" | "error" | "timeout"> {
  const reader = body.getReader();
  const deadline = Date.now() + limitMs;
  try {
    while (Date.now() < deadline) {
      const next = await Promise.race([reader.read(), new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), deadline - Date.now()))]);
      if (next === "timeout") break;
      if (next.done) return "done";
    }
    return "timeout";
  } catch {
    return "error";
  } finally {
    void reader.cancel().catch(() => undefined);
  }
}

describe("envd's Connect router", () => {
  test("a service or method named after what every object inherits is not served: 404 unimplemented, never a call into Object", async () => {
    for (const route of ["/constructor/freeze", "/constructor/assign", "/__proto__/toString", "/process.Process/constructor", "/filesystem.Filesystem/hasOwnProperty", "/process.Process/__proto__"]) {
      const answer = await envd(route, "{}");
      expect(answer.status, route).toBe(404);
      expect(await answer.json(), route).toMatchObject({ code: "unimplemented" });
    }
    const listed = await envd("/filesystem.Filesystem/ListDir", JSON.stringify({ path: "/workspace" }));
    expect(listed.status).toBe(200);
  });
});

describe("E2B's REST routes", () => {
  test("a body that is not JSON, or not valid JSON, is the caller's mistake in E2B's shape, not an internal error", async () => {
    const answers = [
      await e2b("POST", "/v2/sandboxes", "{broken"),
      await e2b("POST", "/v2/sandboxes", JSON.stringify({ templateID: "base" }), "text/plain"),
      await e2b("POST", `/sandboxes/${sandboxID}/timeout`, JSON.stringify({ timeout: 60 }), "application/x-www-form-urlencoded"),
      await e2b("POST", `/v2/sandboxes/${sandboxID}/connect`, "{", "application/json"),
    ];
    for (const answer of answers) {
      const body = (await answer.json()) as { code: number; error: { code: string } };
      expect(answer.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(answer.status, JSON.stringify(body)).toBeLessThan(500);
      expect(body.code).toBe(answer.status);
      expect(body.error.code).not.toBe("internal");
    }
  });
});

describe("envd access tokens", () => {
  test("one sandbox's token opens no other sandbox of the same workspace; a removed user's token ends its streams and every later call", async () => {
    const added = await server.api("POST", `/workspaces/${workspaceID}/users`, { name: "leaver", role: "member" });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    const leaverKey = added.body.token as string;
    const connected = await e2b("POST", `/v2/sandboxes/${sandboxID}/connect`, "{}", "application/json", leaverKey);
    expect(connected.status).toBe(200);
    const leaverToken = ((await connected.json()) as { envdAccessToken: string }).envdAccessToken;
    const other = await e2b("POST", "/v2/sandboxes", JSON.stringify({ templateID: "base", timeout: 600 }));
    const otherID = ((await other.json()) as { sandboxID: string }).sandboxID;
    const crossed = await envd("/filesystem.Filesystem/ListDir", JSON.stringify({ path: "/workspace" }), leaverToken, otherID);
    expect(crossed.status).toBe(404);

    const stream = await fetch(`${server.url}/e2b/envd/process.Process/Start`, {
      method: "POST",
      headers: { "x-access-token": leaverToken, "e2b-sandbox-id": sandboxID, "content-type": "application/connect+json" },
      body: enveloped({ process: { cmd: "/bin/sh", args: ["-c", "sleep 30"] } }),
    });
    expect(stream.status).toBe(200);
    const started = Date.now();
    expect((await server.api("DELETE", `/workspaces/${workspaceID}/users/${added.body.user.id}`)).status).toBe(200);
    expect(await drain(stream.body!, 10_000)).not.toBe("timeout");
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await envd("/filesystem.Filesystem/ListDir", JSON.stringify({ path: "/workspace" }), leaverToken)).status).toBe(401);
    expect((await envd("/filesystem.Filesystem/ListDir", JSON.stringify({ path: "/workspace" }))).status).toBe(200);
    await e2b("DELETE", `/sandboxes/${otherID}`);
  });

  test("nothing the store holds signs one: a copy of the store forges no access to a sandbox", async () => {
    const [sandbox, workspaceID, userID, tokenID] = accessToken.split(".");
    expect(sandbox).toBe(sandboxID);
    const expires = Math.floor(Date.now() / 1000) + 3600;
    const signedText = `e2b-envd\n${sandboxID}\n${workspaceID}\n${userID}\n${tokenID}`;
    const database = new Database(path.join(server.dataDirectory, "ciab.db"), { readonly: true });
    const values = (database.prepare("SELECT value FROM meta").all() as { value: string }[]).map((row) => row.value);
    database.close();
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) {
      for (const key of [Buffer.from(value, "base64"), Buffer.from(value)]) {
        const forged = [sandboxID, workspaceID, userID, tokenID, expires, signDownload(key, signedText, expires)].join(".");
        const answer = await envd("/filesystem.Filesystem/ListDir", JSON.stringify({ path: "/workspace" }), forged);
        expect(answer.status, `signed with the meta value ${value.slice(0, 12)}…`).toBe(401);
      }
    }
    expect((await envd("/filesystem.Filesystem/ListDir", JSON.stringify({ path: "/workspace" }))).status).toBe(200);
  });
});
