import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchSandboxEnv } from "../../infra/agent-image/src/sandbox-config.js";

/** The entrypoint's fetch of the sandbox env from ciab's single-use URL (docs/decisions/0033). */
describe("fetchSandboxEnv", () => {
  let server: http.Server;
  let base: string;
  let flaky = 0;
  beforeAll(async () => {
    server = http.createServer((request, response) => {
      if (request.url === "/env") return void response.end('{"env":{"DEPLOY_TOKEN":"s3cret"}}');
      if (request.url === "/spent") return void response.writeHead(401).end('{"error":{"code":"unauthorized"}}');
      if (request.url === "/flaky") return void (flaky++ < 1 ? response.writeHead(503).end() : response.end('{"env":{"A":"b"}}'));
      if (request.url === "/redirect") return void response.writeHead(302, { location: "/env" }).end();
      // Endless: the fetch stops at its bound.
      response.writeHead(200);
      const pump = () => {
        while (response.write(Buffer.alloc(64 * 1024, 32)));
        response.once("drain", pump);
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const log = () => undefined;

  it("answers the env, retries a 5xx, and refuses a spent URL, a redirect and an endless answer", async () => {
    expect(await fetchSandboxEnv(`${base}/env`, log)).toEqual({ DEPLOY_TOKEN: "s3cret" });
    expect(await fetchSandboxEnv(`${base}/flaky`, log)).toEqual({ A: "b" });
    await expect(fetchSandboxEnv(`${base}/spent`, log)).rejects.toThrow(/answered 401/);
    await expect(fetchSandboxEnv(`${base}/redirect`, log)).rejects.toThrow(/answered 302/);
    await expect(fetchSandboxEnv(`${base}/endless`, log)).rejects.toThrow(/larger than/);
  });
});
