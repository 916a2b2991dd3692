import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, expect, test } from "vitest";
import { signDownload } from "../../packages/server/src/artifacts/download-signature.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/**
 * Someone holding a copy of the store (a backup, a dump) but no token: the store keeps tokens hashed, so it
 * must not be a key either. A download URL's signature covers only ids the store holds, so whatever signs it
 * must not be in the store readable.
 */
let server: TestServer;
let artifactID: string;
let userID: string;

beforeAll(async () => {
  server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local" } });
  const created = await server.api("POST", "/sandboxes", { runtime: "local" });
  expect(created.status).toBe(201);
  const written = await server.api("POST", `/sandboxes/${created.body.id}/files/write`, { path: "secret.txt", content: "the crown jewels" });
  expect(written.status, JSON.stringify(written.body)).toBe(200);
  const published = await server.api("POST", "/artifacts", { sandbox_id: created.body.id, path: "secret.txt" });
  expect(published.status, JSON.stringify(published.body)).toBe(201);
  artifactID = published.body.id;
  userID = new URL(published.body.download_url).searchParams.get("user")!;
  expect((await fetch(published.body.download_url)).status).toBe(200);
});
afterAll(async () => server?.close());

test("no value of the store's meta signs a download URL, with or without a token in it", async () => {
  const database = new Database(path.join(server.dataDirectory, "ciab.db"), { readonly: true });
  const values = (database.prepare("SELECT value FROM meta").all() as { value: string }[]).map((row) => row.value);
  database.close();
  expect(values.length).toBeGreaterThan(0);
  const expires = Math.floor(Date.now() / 1000) + 600;
  for (const value of values) {
    for (const key of [Buffer.from(value, "base64"), Buffer.from(value)]) {
      const signature = signDownload(key, `${artifactID}\n${userID}`, expires);
      const forged = `${server.url}/api/v1/artifacts/${artifactID}/download?${new URLSearchParams({ user: userID, expires: String(expires), signature })}`;
      const answer = await fetch(forged);
      expect(answer.status, `signed with the meta value ${value.slice(0, 12)}…`).toBe(403);
      await answer.arrayBuffer();
    }
  }
});
