import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { Hono } from "hono";
import type { CiabError } from "@ciab/protocol";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { toErrorResponse } from "../../api/error-handler.js";
import { createLogger } from "../../logger.js";
import { startMoto, type Moto } from "../../../../../test/harness/aws/moto.js";
import { events, sandboxRecord, sessionRecord, userRecord } from "../contract/fixtures.js";
import type { SandboxRecord } from "../records.js";
import { createDynamoDBStore } from "./dynamodb-store.js";
import { createDynamoTable, type DynamoTable } from "./dynamodb-table.js";
import { ensureTable } from "./dynamodb-table-definition.js";
import { mainKey, modify, type ItemLayout } from "./dynamodb-items.js";
import { maxEventBytes } from "./event-items.js";
import { createUserRepository } from "./identity-repositories.js";

Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto({ serial: true });
});
afterAll(async () => {
  await moto?.stop();
});

async function freshStore(options: { createTable?: boolean; endpoint?: string } = {}) {
  const table = `ciab-${randomUUID()}`;
  const store = createDynamoDBStore({ table, region: "us-east-1", endpoint: options.endpoint ?? moto.endpoint, createTable: options.createTable ?? true });
  return { table, store };
}

/** A loopback endpoint answering every call with one DynamoDB error (throttling unless told), counting calls by operation. */
async function startFailingEndpoint(
  failure: { type: string; message: string } = { type: "ThrottlingException", message: "Rate of requests exceeds the allowed throughput." },
): Promise<{ endpoint: string; calls: Map<string, number>; close(): Promise<void> }> {
  const calls = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const operation = String(request.headers["x-amz-target"] ?? "").split(".").at(-1) ?? "";
    calls.set(operation, (calls.get(operation) ?? 0) + 1);
    request.resume();
    response
      .writeHead(400, { "content-type": "application/x-amz-json-1.0", "x-amzn-errortype": failure.type })
      .end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${failure.type}`, message: failure.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const layout: ItemLayout<SandboxRecord> = { kind: "sandbox", keys: (record) => mainKey("sandbox", record.id) };

/** The table, with another writer that changes the item between each read and the write that follows it. */
function meddling(table: DynamoTable, times: number): DynamoTable {
  let left = times;
  return {
    ...table,
    async get(key) {
      const item = await table.get(key);
      if (item && left-- > 0) {
        await table.update(key, { expression: "SET #message = :m ADD #version :one", names: { "#message": "statusMessage", "#version": "itemVersion" }, values: { ":m": `meddled ${left}`, ":one": 1 } });
      }
      return item;
    },
  };
}

describe("DynamoDB store faults", () => {
  test("two writers of one sandbox: the write that read a stale version is refused and redone on the fresh one; one that keeps losing gets `conflict`", async () => {
    const { table: name, store } = await freshStore();
    await store.migrate();
    const table = createDynamoTable({ table: name, region: "us-east-1", endpoint: moto.endpoint });
    const sandbox = sandboxRecord("ws_a");
    await store.sandboxes.create(sandbox);

    const once = await modify(meddling(table, 1), layout, mainKey("sandbox", sandbox.id), () => ({ state: "paused" as const }));
    expect(once).toMatchObject({ state: "paused", statusMessage: "meddled 0" });
    expect(await store.sandboxes.get("ws_a", sandbox.id)).toMatchObject({ state: "paused", statusMessage: "meddled 0" });

    await expect(modify(meddling(table, 100), layout, mainKey("sandbox", sandbox.id), () => ({ state: "ready" as const }))).rejects.toMatchObject({
      code: "conflict",
      retryable: true,
    });
    expect((await store.sandboxes.get("ws_a", sandbox.id))!.state).toBe("paused");
    table.client.destroy();
    await store.close();
  });

  test("a long admission list is pruned of sandboxes that are gone before a plain create adds to it", async () => {
    const { table: name, store } = await freshStore();
    await store.migrate();
    const table = createDynamoTable({ table: name, region: "us-east-1", endpoint: moto.endpoint });
    const gone = Array.from({ length: 250 }, (_, index) => `sbx_gone${index}`);
    await table.put({ ...mainKey("admission", "ws_a"), itemType: "admission", itemVersion: 7, sandboxIDs: gone });
    const sandbox = sandboxRecord("ws_a");
    await store.sandboxes.create(sandbox);
    expect((await table.get(mainKey("admission", "ws_a")))!.sandboxIDs).toEqual([sandbox.id]);
    table.client.destroy();
    await store.close();
  });

  test("a throttling table: reads and conditional writes are retried with backoff, then `store_unavailable`; an ADD is sent once", async () => {
    const throttling = await startFailingEndpoint();
    const { store } = await freshStore({ endpoint: throttling.endpoint });
    await expect(store.sandboxes.get("ws_a", "sbx_1")).rejects.toMatchObject({ code: "store_unavailable", retryable: true });
    expect(throttling.calls.get("GetItem")).toBe(4);
    await expect(store.volumes.claim("vol_1", null, "sbx_1")).rejects.toMatchObject({ code: "store_unavailable" });
    expect(throttling.calls.get("UpdateItem")).toBe(4);
    await expect(store.sessions.addUsage("ses_1", { inputTokens: 1, outputTokens: 1, costUSD: 1 })).rejects.toMatchObject({ code: "store_unavailable" });
    expect(throttling.calls.get("UpdateItem")).toBe(5);
    await store.close();
    await throttling.close();
  });

  test("an error DynamoDB does not explain is `internal` with a generic message: AWS's words reach the log, not the API caller", async () => {
    const awsMessage = "One or more parameter values were invalid: key sk-hidden-value";
    const failing = await startFailingEndpoint({ type: "ValidationException", message: awsMessage });
    const { table, store } = await freshStore({ endpoint: failing.endpoint });
    const failure = (await store.sandboxes.get("ws_a", "sbx_1").catch((error: unknown) => error)) as CiabError;
    expect(failure).toMatchObject({ code: "internal", message: "the state store failed (DynamoDB ValidationException)" });
    expect(JSON.stringify(failure.toBody())).not.toContain("sk-hidden");
    expect(JSON.stringify(failure.toBody())).not.toContain(table);

    const logged: string[] = [];
    const app = new Hono();
    app.onError((error, c) => toErrorResponse(error, c, createLogger("info", new Writable({
      write(chunk, _encoding, done) {
        logged.push(String(chunk));
        done();
      },
    }))));
    app.get("/", () => store.sandboxes.get("ws_a", "sbx_1").then(() => new Response()));
    const response = await app.request("/");
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain("sk-hidden");
    expect(logged.join("")).toContain(awsMessage);
    await store.close();
    await failing.close();
  });

  test("whether any user exists is one query of at most one item, however many users there are", async () => {
    const { table: name, store } = await freshStore();
    await store.migrate();
    for (let index = 0; index < 25; index += 1) await store.users.create(userRecord("ws_a"));
    const table = createDynamoTable({ table: name, region: "us-east-1", endpoint: moto.endpoint });
    const sent: Array<{ command: string; limit: unknown }> = [];
    table.client.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push({ command: String(context.commandName), limit: (args.input as { Limit?: unknown }).Limit });
        return next(args);
      },
      { step: "initialize" },
    );
    expect(await createUserRepository(table).exists()).toBe(true);
    expect(sent).toEqual([{ command: "QueryCommand", limit: 1 }]);
    table.client.destroy();
    await store.close();
  });

  test("an unreachable table is `store_unavailable`, naming the table", async () => {
    const closed = await startFailingEndpoint();
    const endpoint = closed.endpoint;
    await closed.close();
    const { table, store } = await freshStore({ endpoint });
    const failure = await store.meta.get("installation_id").catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "store_unavailable" });
    expect(String((failure as Error).message)).toContain(table);
    await store.close();
  });

  test("a missing table with create_table off fails start-up naming the table; `ensureTable` creates it once", async () => {
    const { table, store } = await freshStore({ createTable: false });
    await expect(store.migrate()).rejects.toMatchObject({ code: "store_unavailable", message: expect.stringContaining(table) });
    const client = createDynamoTable({ table, region: "us-east-1", endpoint: moto.endpoint }).client;
    expect(await ensureTable(client, table)).toBe(true);
    expect(await ensureTable(client, table)).toBe(false);
    client.destroy();
    await store.migrate();
    await store.close();
  });

  test("items over 400 KB: a big event is split into parts, a bigger one refused whole, a big record refused with a typed error", async () => {
    const { store } = await freshStore();
    await store.migrate();
    const session = sessionRecord("ws_a");
    await store.sessions.create(session);
    const big = events(session.id, 1, 2, { text: "x".repeat(450_000) });
    await store.events.append(big, { sessionID: session.id, stdoutOffset: 5 });
    expect(await store.events.list(session.id, 0, 10)).toEqual(big);

    const huge = events(session.id, 3, 1, { text: "y".repeat(maxEventBytes) });
    await expect(store.events.append(huge, { sessionID: session.id, stdoutOffset: 6 })).rejects.toMatchObject({ code: "payload_too_large" });
    expect(await store.events.lastSeq(session.id)).toBe(2);
    expect((await store.sessions.getAny(session.id))!.stdoutOffset).toBe(5);

    await expect(store.sandboxes.create(sandboxRecord("ws_a", { statusMessage: "z".repeat(500_000) }))).rejects.toMatchObject({ code: "payload_too_large" });
    await store.close();
  });
});
