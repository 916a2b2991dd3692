import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

const mib = 1024 * 1024;
const env = {
  CIAB_ARTIFACTS_MAX_BYTES: String(48 * mib),
  CIAB_ARTIFACTS_DOWNLOAD_LIMIT_BYTES_PER_HOUR: String(50 * mib),
};

/** Artifacts in the local store, published from a real bubblewrap sandbox through the API. */
describe("artifacts in the local store", () => {
  let server: TestServer;
  let sandboxID: string;

  async function run(script: string): Promise<string> {
    const answer = await server.api("POST", `/sandboxes/${sandboxID}/exec`, { command: ["sh", "-c", script] });
    expect(answer.body.exit_code, answer.body.stderr).toBe(0);
    return answer.body.stdout as string;
  }

  async function download(url: string): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
    const response = await fetch(url);
    return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()), headers: response.headers };
  }

  beforeAll(async () => {
    server = await startTestServer({ env });
    const created = await server.api("POST", "/sandboxes", { runtime: "local" });
    expect(created.status).toBe(201);
    sandboxID = created.body.id;
    await run(
      "mkdir -p out && printf 'hello artifact' > out/report.txt && : > out/empty.bin && ln -s /etc/passwd out/passwd-link" +
        ` && head -c ${30 * mib} /dev/urandom > out/big.bin && head -c ${49 * mib} /dev/zero > out/huge.bin`,
    );
  });
  afterAll(async () => {
    await server?.close();
    rmSync(server.dataDirectory, { recursive: true, force: true });
  });

  test("publish, get, list and download through the signed URL", async () => {
    const published = await server.api("POST", "/artifacts", {
      sandbox_id: sandboxID,
      path: "out/report.txt",
      description: "the report",
    });
    expect(published.status).toBe(201);
    const artifact = published.body;
    expect(artifact).toMatchObject({
      path: "/workspace/out/report.txt",
      name: "report.txt",
      mime: "text/plain",
      size: 14,
      sha256: createHash("sha256").update("hello artifact").digest("hex"),
      sandbox_id: sandboxID,
      description: "the report",
      scan: { status: "skipped" },
    });
    expect(artifact.id).toMatch(/^art_/);
    const fetched = await download(artifact.download_url);
    expect(fetched.status).toBe(200);
    expect(fetched.bytes.toString()).toBe("hello artifact");
    expect(fetched.headers.get("content-disposition")).toContain("attachment");

    const got = await server.api("GET", `/artifacts/${artifact.id}`);
    expect(got.body.sha256).toBe(artifact.sha256);
    const listed = await server.api("GET", `/artifacts?sandbox_id=${sandboxID}`);
    expect(listed.body.artifacts.map((item: { id: string }) => item.id)).toContain(artifact.id);
  });

  test("a large file streams through with its hash; a zero-byte file is an artifact too", async () => {
    const expected = (await run("sha256sum out/big.bin")).split(" ")[0];
    const big = await server.api("POST", "/artifacts", { sandbox_id: sandboxID, path: "/workspace/out/big.bin" });
    expect(big.status, JSON.stringify(big.body)).toBe(201);
    expect(big.body).toMatchObject({ size: 30 * mib, sha256: expected, mime: "application/octet-stream" });
    const empty = await server.api("POST", "/artifacts", { sandbox_id: sandboxID, path: "out/empty.bin", mime: "application/x-empty" });
    expect(empty.status).toBe(201);
    expect(empty.body).toMatchObject({ size: 0, sha256: createHash("sha256").digest("hex"), mime: "application/x-empty" });
    expect((await download(empty.body.download_url)).bytes.length).toBe(0);
  });

  test("bad paths answer typed errors and record nothing", async () => {
    const before = (await server.api("GET", "/artifacts?limit=500")).body.artifacts.length;
    const cases: Array<[string, number, string]> = [
      ["../../etc/passwd", 403, "path_outside_sandbox"],
      ["/etc/passwd", 403, "path_outside_sandbox"],
      ["out/passwd-link", 403, "path_outside_sandbox"],
      ["out/missing.txt", 404, "file_not_found"],
      ["out", 409, "is_a_directory"],
      ["out/huge.bin", 413, "payload_too_large"],
    ];
    for (const [path, status, code] of cases) {
      const answer = await server.api("POST", "/artifacts", { sandbox_id: sandboxID, path });
      expect([path, answer.status, answer.body.error?.code]).toEqual([path, status, code]);
    }
    const invalid = await server.api("POST", "/artifacts", { path: "x" });
    expect(invalid.body.error.code).toBe("invalid_request");
    expect((await server.api("GET", "/artifacts?limit=500")).body.artifacts.length).toBe(before);
  });

  test("another workspace's artifact ids answer 404; delete removes", async () => {
    const published = await server.api("POST", "/artifacts", { sandbox_id: sandboxID, path: "out/report.txt" });
    const other = (await server.api("POST", "/workspaces", { name: "other team" })).body.token as string;
    for (const method of ["GET", "DELETE"]) {
      const answer = await server.api(method, `/artifacts/${published.body.id}`, undefined, { token: other });
      expect(answer.status).toBe(404);
      expect(answer.body.error.code).toBe("not_found");
    }
    expect((await server.api("GET", "/artifacts", undefined, { token: other })).body.artifacts).toEqual([]);
    expect((await server.api("DELETE", `/artifacts/${published.body.id}`)).status).toBe(200);
    expect((await server.api("GET", `/artifacts/${published.body.id}`)).status).toBe(404);
    expect((await download(published.body.download_url)).status).toBe(404);
  });

  test("a tampered signature is refused without a token", async () => {
    const published = await server.api("POST", "/artifacts", { sandbox_id: sandboxID, path: "out/report.txt" });
    const url = new URL(published.body.download_url);
    url.searchParams.set("expires", String(Number(url.searchParams.get("expires")) + 3600));
    const answer = await fetch(url);
    expect(answer.status).toBe(403);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe("forbidden");
  });

  test("paging walks the list in creation order", async () => {
    const all = (await server.api("GET", "/artifacts?limit=500")).body.artifacts.map((item: { id: string }) => item.id);
    const first = (await server.api("GET", "/artifacts?limit=2")).body;
    expect(first.artifacts.map((item: { id: string }) => item.id)).toEqual(all.slice(0, 2));
    const second = (await server.api("GET", `/artifacts?limit=2&after=${first.next}`)).body;
    expect(second.artifacts.map((item: { id: string }) => item.id)).toEqual(all.slice(2, 4));
  });

  test("downloads past the hourly limit answer 429 with Retry-After, also after a restart", async () => {
    const big = (await server.api("GET", `/artifacts?sandbox_id=${sandboxID}&limit=500`)).body.artifacts.find(
      (item: { size: number }) => item.size === 30 * mib,
    );
    // The 30 MiB download of the earlier test is not counted: it never happened. This one fits the 50 MiB.
    expect((await download(big.download_url)).status).toBe(200);
    const refused = await download(big.download_url);
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.bytes.toString()).error.code).toBe("rate_limited");
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);

    const dataDirectory = server.dataDirectory;
    await server.server.close();
    server = await startTestServer({ env, dataDirectory });
    const url = new URL(big.download_url);
    const again = await download(`${server.url}${url.pathname}${url.search}`);
    expect(again.status).toBe(429);
  });
});
