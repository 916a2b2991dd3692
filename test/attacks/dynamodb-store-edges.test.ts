import { randomBytes, randomUUID } from "node:crypto";
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import type { SessionEvent } from "@ciab/protocol";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDataKey } from "../../packages/server/src/data-key.js";
import { createApprovalService, type ApprovalOutcome } from "../../packages/server/src/services/policy/approval-service.js";
import { createDynamoDBStore } from "../../packages/server/src/store/dynamodb/dynamodb-store.js";
import { createDynamoTable, type DynamoTable } from "../../packages/server/src/store/dynamodb/dynamodb-table.js";
import { ensureTable } from "../../packages/server/src/store/dynamodb/dynamodb-table-definition.js";
import { createEventRepository } from "../../packages/server/src/store/dynamodb/event-repository.js";
import { startMoto, type Moto } from "../harness/aws/moto.js";

/**
 * The DynamoDB store against what SQLite takes in its stride: a writer that died half-way (a Lambda timed out,
 * DynamoDB throttled it past its retries) must not spoil what the next writer commits, and a record that
 * outgrows DynamoDB's 400 KB item must be kept whole or end with a clear error, never be left half-done.
 */
Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });

let moto: Moto;
let table: DynamoTable;

beforeAll(async () => {
  moto = await startMoto();
  table = createDynamoTable({ table: `ciab-${randomUUID()}`, region: "us-east-1", endpoint: moto.endpoint });
  await ensureTable(table.client, table.name);
}, 60_000);

afterAll(async () => {
  table?.client.destroy();
  await moto?.stop();
});

function outputEvent(sessionID: string, seq: number, bytes: number): SessionEvent {
  return { session_id: sessionID, seq, type: "agent.message", data: { text: "x".repeat(bytes) }, created_at: new Date().toISOString() };
}

/** The table, with every closing transaction (the one that moves the counter off a lease) failing. */
function dyingBeforeCommit(real: DynamoTable): DynamoTable {
  return {
    ...real,
    async transact(items) {
      if (items.some((item) => item.Update?.UpdateExpression?.includes("REMOVE #lease"))) throw new Error("the writer's Lambda timed out");
      return real.transact(items);
    },
  };
}

test("an event staged in many parts by a writer that died leaves no part the next writer's event picks up", async () => {
  const sessionID = `ses_${randomUUID()}`;
  await expect(createEventRepository(dyingBeforeCommit(table)).append([outputEvent(sessionID, 1, 1_500_000)])).rejects.toThrow(/timed out/);
  // The dead writer's lease runs out.
  await table.update({ pk: `events#${sessionID}`, sk: "counter" }, { expression: "SET #until = :past", names: { "#until": "leaseUntil" }, values: { ":past": 0 } });

  const events = createEventRepository(table);
  await events.append([outputEvent(sessionID, 1, 400_000)]);
  const read = await events.list(sessionID, 0, 10);
  expect(read.map((event) => event.seq)).toEqual([1]);
  expect((read[0]!.data as { text: string }).text).toHaveLength(400_000);
}, 60_000);

describe("an approved call's outcome past DynamoDB's item limit", () => {
  const workspaceID = "ws_edges";
  const principal = { userID: "usr_member", workspaceID, role: "member" as const, installationAdmin: false, tokenID: "tok_member" };

  async function approvedCall(argumentBytes: number) {
    const store = createDynamoDBStore({ table: table.name, region: "us-east-1", endpoint: moto.endpoint, createTable: false });
    const approvals = createApprovalService({ store, dataKey: createDataKey(randomBytes(32)), timeoutMs: 60_000 });
    // A member's call outside the work dir, held with its content: the sealed arguments alone fill half an item.
    const held = await approvals.hold({
      principal,
      sessionID: "ses_edges",
      sandboxID: "sbx_edges",
      tool: "write_file",
      call: { args: { path: "/etc/motd", content: "a".repeat(argumentBytes) }, origin: "https://ciab.example.test" },
      summary: { path: "/etc/motd" },
      argsDigest: "digest",
      reason: "outside /workspace",
    });
    expect(await store.approvals.decide(held.id, "approved", "usr_admin", new Date().toISOString())).toBe(true);
    return { store, approvals, held };
  }

  test("an outcome of a megabyte beside large arguments is kept whole: read, waited on and listed", async () => {
    const { store, approvals, held } = await approvedCall(200_000);
    const outcome: ApprovalOutcome = { status: "succeeded", result: { content: "b".repeat(1_000_000) } };
    await approvals.setOutcome(held, outcome);
    const final = await approvals.wait(workspaceID, held.id, 1_000);
    expect(approvals.view(final).outcome).toEqual(outcome);
    const listed = await store.approvals.list(workspaceID, { limit: 100 });
    expect(listed.find((record) => record.id === held.id)?.sealedOutcome).toBe(final.sealedOutcome);
    await store.close();
  }, 60_000);

  test("an outcome too big for any write ends the approval with payload_too_large, so no caller waits on it forever", async () => {
    const { store, approvals, held } = await approvedCall(1_000);
    await approvals.setOutcome(held, { status: "succeeded", result: { content: "c".repeat(6_000_000) } });
    const final = await approvals.wait(workspaceID, held.id, 1_000);
    expect(approvals.view(final).outcome).toMatchObject({ status: "failed", error: { code: "payload_too_large" } });
    await store.close();
  }, 60_000);
});

describe("a conditional write whose answer was lost", () => {
  /**
   * A loopback proxy in front of moto that lets the first call of one kind through to moto and then cuts the
   * connection instead of answering: the write happened, and the store retries a call it believes failed.
   */
  async function answerLostOnce(operation = "UpdateItem") {
    let lost = false;
    const target = new URL(moto.endpoint);
    const server = createServer((incoming, response) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("end", () => {
        const cut = !lost && String(incoming.headers["x-amz-target"]).endsWith(`.${operation}`);
        if (cut) lost = true;
        const forwarded = httpRequest({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
          if (cut) {
            answer.resume();
            answer.once("end", () => incoming.socket.destroy());
            return;
          }
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        });
        forwarded.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const store = createDynamoDBStore({ table: table.name, region: "us-east-1", endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, createTable: false });
    return {
      store,
      async close() {
        await store.close();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  }

  test("a volume claim that went through is the claimer's, not refused as held by someone else", async () => {
    const plain = createDynamoDBStore({ table: table.name, region: "us-east-1", endpoint: moto.endpoint, createTable: false });
    const volume = { id: `vol_${randomUUID()}`, workspaceID: "ws_edges", userID: "usr_member", runtime: "ec2" as const, details: {}, sandboxID: null, createdAt: new Date().toISOString(), lastUsedAt: null };
    await plain.volumes.create(volume);
    const lossy = await answerLostOnce();
    expect(await lossy.store.volumes.claim(volume.id, null, "sbx_claimer")).toBe(true);
    expect((await plain.volumes.get("ws_edges", volume.id))?.sandboxID).toBe("sbx_claimer");
    // And a claim that truly lost still loses.
    expect(await plain.volumes.claim(volume.id, null, "sbx_other")).toBe(false);
    await lossy.close();
    await plain.close();
  }, 30_000);

  test("an approval decision that went through is the decider's, so the approved call runs once rather than never", async () => {
    const plain = createDynamoDBStore({ table: table.name, region: "us-east-1", endpoint: moto.endpoint, createTable: false });
    const approvals = createApprovalService({ store: plain, dataKey: createDataKey(randomBytes(32)), timeoutMs: 60_000 });
    const held = await approvals.hold({
      principal: { userID: "usr_member", workspaceID: "ws_edges", role: "member", installationAdmin: false, tokenID: "tok_member" },
      sessionID: "ses_edges",
      sandboxID: "sbx_edges",
      tool: "write_file",
      call: { args: { path: "/etc/motd", content: "hi" }, origin: "https://ciab.example.test" },
      summary: { path: "/etc/motd" },
      argsDigest: "digest",
      reason: "outside /workspace",
    });
    const lossy = await answerLostOnce();
    const now = new Date().toISOString();
    expect(await lossy.store.approvals.decide(held.id, "approved", "usr_admin", now)).toBe(true);
    // A second decider, even the same admin in the same millisecond, still loses.
    expect(await plain.approvals.decide(held.id, "approved", "usr_admin", now)).toBe(false);
    await lossy.close();
    await plain.close();
  }, 30_000);

  test("a call held for approval whose write went through is held, not refused as a duplicate that may later run anyway", async () => {
    const lossy = await answerLostOnce("PutItem");
    const approvals = createApprovalService({ store: lossy.store, dataKey: createDataKey(randomBytes(32)), timeoutMs: 60_000 });
    const held = await approvals.hold({
      principal: { userID: "usr_member", workspaceID: "ws_edges", role: "member", installationAdmin: false, tokenID: "tok_member" },
      sessionID: "ses_edges",
      sandboxID: "sbx_edges",
      tool: "write_file",
      call: { args: { path: "/etc/issue", content: "hi" }, origin: "https://ciab.example.test" },
      summary: { path: "/etc/issue" },
      argsDigest: "digest",
      reason: "outside /workspace",
    });
    expect((await lossy.store.approvals.get("ws_edges", held.id))?.state).toBe("pending");
    await lossy.close();
  }, 30_000);
});
