import { randomUUID } from "node:crypto";
import type { SessionEvent } from "@ciab/protocol";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createDynamoTable, type DynamoTable } from "../../packages/server/src/store/dynamodb/dynamodb-table.js";
import { ensureTable } from "../../packages/server/src/store/dynamodb/dynamodb-table-definition.js";
import { createEventRepository } from "../../packages/server/src/store/dynamodb/event-repository.js";
import { startMoto, type Moto } from "../harness/aws/moto.js";

/**
 * What a writer leaves in the table when it dies half-way (a Lambda timed out, DynamoDB throttled it past its
 * retries) must not spoil what the next writer commits: the session's events stay readable and whole.
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
  return { session_id: sessionID, seq, ts: new Date().toISOString(), type: "agent.output", data: { text: "x".repeat(bytes) } } as SessionEvent;
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
