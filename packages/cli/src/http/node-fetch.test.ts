import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeFetch } from "./node-fetch.js";

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer(async (request, response) => {
    if (request.url === "/echo") {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      response.writeHead(201, { "content-type": "application/json", "x-method": request.method });
      response.end(JSON.stringify({ body: Buffer.concat(chunks).toString(), type: request.headers["content-type"] ?? null }));
    } else if (request.url === "/stream") {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write("data: 1\n\n");
      setTimeout(() => response.end("data: 2\n\n"), 20);
    } else if (request.url === "/hang") {
      response.writeHead(200).flushHeaders();
    } else {
      response.writeHead(404).end("missing");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("nodeFetch", () => {
  it("sends a string body with headers and reads status, headers and JSON", async () => {
    const response = await nodeFetch(`${base}/echo`, { method: "POST", headers: { "content-type": "text/plain" }, body: "hi" });
    expect([response.status, response.ok, response.headers.get("X-Method")]).toEqual([201, true, "POST"]);
    expect(await response.json()).toEqual({ body: "hi", type: "text/plain" });
  });

  it("sends a web stream body", async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("a"));
        controller.enqueue(new TextEncoder().encode("b"));
        controller.close();
      },
    });
    expect(await (await nodeFetch(`${base}/echo`, { method: "PUT", body })).json()).toMatchObject({ body: "ab" });
  });

  it("gives the body as a web stream as it arrives", async () => {
    const response = await nodeFetch(`${base}/stream`);
    let text = "";
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) text += Buffer.from(chunk).toString();
    expect(text).toBe("data: 1\n\ndata: 2\n\n");
  });

  it("answers an error status as a response, not a rejection", async () => {
    const response = await nodeFetch(`${base}/nothing`);
    expect([response.status, response.ok, await response.text()]).toEqual([404, false, "missing"]);
  });

  it("rejects like fetch: a TypeError with the cause when it cannot connect, the reason when aborted", async () => {
    const refused = nodeFetch("http://127.0.0.1:9/");
    await expect(refused).rejects.toBeInstanceOf(TypeError);
    await expect(refused).rejects.toMatchObject({ cause: { code: "ECONNREFUSED" } });
    const controller = new AbortController();
    const hanging = nodeFetch(`${base}/hang`, { signal: controller.signal });
    const response = await hanging;
    const reading = response.text();
    controller.abort();
    await expect(reading).rejects.toBeDefined();
    await expect(nodeFetch(`${base}/echo`, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: "AbortError" });
  });
});
