import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/**
 * A member rewrites the signed download URL they were given. A URL that names its token must never be
 * turned into one that names none (which no revoke cuts and whose hourly count is a bucket of no user), nor
 * point at another token or user, nor outlive its token.
 */
describe("a signed download URL cannot be rewritten", () => {
  let server: TestServer;
  let owner: string;
  let sandboxID: string;
  const fileBytes = 4096;

  const api = (method: string, route: string, body?: unknown, token = owner) => server.api(method, route, body, { token });

  async function newToken(): Promise<{ id: string; token: string }> {
    const created = await api("POST", "/tokens", { name: `forger-${Date.now()}` });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body;
  }

  async function publish(token: string): Promise<{ id: string; url: URL }> {
    const published = await api("POST", "/artifacts", { sandbox_id: sandboxID, path: "small.bin" }, token);
    expect(published.status, JSON.stringify(published.body)).toBe(201);
    return { id: published.body.id, url: new URL(published.body.download_url) };
  }

  async function statusOf(url: URL): Promise<{ status: number; code?: string }> {
    const response = await fetch(url);
    if (response.status === 200) {
      await response.arrayBuffer();
      return { status: 200 };
    }
    return { status: response.status, code: ((await response.json()) as { error: { code: string } }).error.code };
  }

  /** The URL's token folded into its user: the text signed for a URL without a token is the same. */
  function tokenFoldedIntoUser(url: URL): URL {
    const forged = new URL(url);
    forged.searchParams.set("user", `${url.searchParams.get("user")}\n${url.searchParams.get("token")}`);
    forged.searchParams.delete("token");
    return forged;
  }

  beforeAll(async () => {
    server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local", CIAB_RUNTIME_BACKEND: "local" } });
    const team = await server.api("POST", "/workspaces", { name: "team-forge", role: "admin" });
    owner = team.body.token;
    sandboxID = (await api("POST", "/sandboxes", { runtime: "local" })).body.id;
    const written = await api("POST", `/sandboxes/${sandboxID}/exec`, { command: ["sh", "-c", `head -c ${fileBytes} /dev/urandom > small.bin`] });
    expect(written.body.exit_code, JSON.stringify(written.body)).toBe(0);
  });

  afterAll(async () => {
    await server?.close();
  });

  test("a token folded into the user field does not make a URL without a token", async () => {
    const forger = await newToken();
    const { url } = await publish(forger.token);
    expect(url.searchParams.get("token")).toBe(forger.id);
    const forged = tokenFoldedIntoUser(url);
    expect((await api("DELETE", `/tokens/${forger.id}`)).status).toBe(200);
    expect((await statusOf(url)).status).toBe(401);
    const answer = await statusOf(forged);
    expect(answer.status).not.toBe(200);
    expect(answer.status).toBe(400);
  });

  test("the token dropped, swapped for another, or the user swapped: the signature no longer matches", async () => {
    const forger = await newToken();
    const other = await newToken();
    const { url } = await publish(forger.token);
    const dropped = new URL(url);
    dropped.searchParams.delete("token");
    const swapped = new URL(url);
    swapped.searchParams.set("token", other.id);
    const otherUser = new URL(url);
    otherUser.searchParams.set("user", "usr_00000000000000000000000000");
    for (const forged of [dropped, swapped, otherUser]) expect(await statusOf(forged)).toEqual({ status: 403, code: "forbidden" });
    expect((await statusOf(url)).status).toBe(200);
  });

  test("the URL carries the token's id, never its secret", async () => {
    const forger = await newToken();
    const { url } = await publish(forger.token);
    expect(url.toString()).not.toContain(forger.token);
    expect(url.toString()).not.toContain(forger.token.slice(5, 25));
  });
});
