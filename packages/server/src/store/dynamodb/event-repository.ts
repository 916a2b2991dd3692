import { randomUUID } from "node:crypto";
import { CiabError, type SessionEvent } from "@ciab/protocol";
import type { EventRepository } from "../store.js";
import { mainKey } from "./dynamodb-items.js";
import type { DynamoTable, Item, TransactItem } from "./dynamodb-table.js";
import { eventItems, eventFromItems, eventSortKey, partPrefix } from "./event-items.js";

/** DynamoDB's 100 items per transaction, less the counter and the session. */
const itemsPerTransaction = 98;
/** Under DynamoDB's 4 MB per transaction, with room for attribute names and overhead. */
const bytesPerTransaction = 3_000_000;
/** How long a writer holds a session's counter while it stages a batch too big for one transaction. */
const leaseMs = 60_000;

/**
 * Each session's events live in one partition (`events#<session>`): `e#<seq>` items, the `p#<seq>#<n>` parts of
 * an event too big for one item, and the `counter` item holding the last committed seq. The counter moves in
 * the same transaction as the events, on the condition that it still holds the seq before them: concurrent
 * appends cannot both take a number, and readers see only what the counter covers, so no gap is ever visible.
 */
export function createEventRepository(table: DynamoTable): EventRepository {
  const counterKey = (sessionID: string) => ({ pk: `events#${sessionID}`, sk: "counter" });

  const sessionUpdate = (sessionPatch: { sessionID: string; stdoutOffset: number } | undefined): TransactItem[] =>
    sessionPatch
      ? [
          {
            Update: {
              TableName: table.name,
              Key: mainKey("session", sessionPatch.sessionID),
              UpdateExpression: "SET #offset = :offset, #updated = :updated ADD #version :one",
              ConditionExpression: "attribute_exists(pk)",
              ExpressionAttributeNames: { "#offset": "stdoutOffset", "#updated": "updatedAt", "#version": "itemVersion" },
              ExpressionAttributeValues: { ":offset": sessionPatch.stdoutOffset, ":updated": new Date().toISOString(), ":one": 1 },
            },
          },
        ]
      : [];

  function conflict(sessionID: string, first: number): CiabError {
    return new CiabError("conflict", `event ${first} of session ${sessionID} was taken by another writer`, {
      retryable: true,
      context: { sessionID, seq: first },
    });
  }

  return {
    async append(events, sessionPatch) {
      if (events.length === 0) {
        if (sessionPatch && !(await table.transact(sessionUpdate(sessionPatch)))) throw new CiabError("not_found", `session ${sessionPatch.sessionID} not found`);
        return;
      }
      const sessionID = events[0]!.session_id;
      const first = events[0]!.seq;
      events.forEach((event, index) => {
        if (event.session_id !== sessionID || event.seq !== first + index) {
          throw new CiabError("invalid_request", "events appended at once must be of one session and numbered without gaps");
        }
      });
      const last = first + events.length - 1;
      const counter = counterKey(sessionID);
      const prior: { expression: string; names: Record<string, string>; values: Record<string, unknown> } =
        first === 1
          ? { expression: "attribute_not_exists(#last)", names: { "#last": "last" }, values: {} }
          : { expression: "#last = :prior", names: { "#last": "last" }, values: { ":prior": first - 1 } };
      const items = events.flatMap((event) => eventItems(event));
      const batches = batch(items);
      const closing = batches.pop()!;
      const commit = (lease: string | undefined): TransactItem[] => [
        ...closing.map((item) => ({ Put: { TableName: table.name, Item: item } })),
        {
          Update: {
            TableName: table.name,
            Key: counter,
            UpdateExpression: "SET #last = :last, #kind = :kind REMOVE #lease, #until",
            ConditionExpression:
              lease === undefined ? `${prior.expression} AND (attribute_not_exists(#lease) OR #until < :now)` : "#lease = :lease",
            ExpressionAttributeNames: { "#last": "last", "#kind": "itemType", "#lease": "lease", "#until": "leaseUntil" },
            ExpressionAttributeValues: {
              ":last": last,
              ":kind": "event-counter",
              ...(lease === undefined ? { ...prior.values, ":now": Date.now() } : { ":lease": lease }),
            },
          },
        },
        ...sessionUpdate(sessionPatch),
      ];
      if (batches.length === 0) {
        if (!(await table.transact(commit(undefined)))) throw conflict(sessionID, first);
        return;
      }
      // Too big for one transaction: take the counter for a while, stage the items it does not cover yet
      // (each staging write checks the lease is still ours), then move it in the closing transaction.
      const lease = randomUUID();
      const taken = await table.update(
        counter,
        {
          expression: "SET #lease = :lease, #until = :until, #kind = :kind",
          names: { "#lease": "lease", "#until": "leaseUntil", "#kind": "itemType", ...prior.names },
          values: { ":lease": lease, ":until": Date.now() + leaseMs, ":kind": "event-counter", ":now": Date.now(), ...prior.values },
        },
        { expression: `${prior.expression} AND (attribute_not_exists(#lease) OR #until < :now)` },
      );
      if (!taken) throw conflict(sessionID, first);
      const leaseHeld: TransactItem = {
        ConditionCheck: {
          TableName: table.name,
          Key: counter,
          ConditionExpression: "#lease = :lease",
          ExpressionAttributeNames: { "#lease": "lease" },
          ExpressionAttributeValues: { ":lease": lease },
        },
      };
      for (const staged of batches) {
        const written = await table.transact([...staged.map((item) => ({ Put: { TableName: table.name, Item: item } })), leaseHeld]);
        if (!written) throw conflict(sessionID, first);
      }
      if (!(await table.transact(commit(lease)))) throw conflict(sessionID, first);
    },
    async list(sessionID, after, limit) {
      const counter = await table.get(counterKey(sessionID));
      const last = Number(counter?.last ?? 0);
      if (last <= after || limit <= 0) return [];
      const items = await table.query({ partition: `events#${sessionID}`, after: eventSortKey(after), through: eventSortKey(last), limit });
      const events: SessionEvent[] = [];
      for (const item of items) {
        // Only the first `parts` parts: a writer that died while staging a longer event under the same seq
        // may have left more, which the committed event does not cover.
        const count = Number(item.parts ?? 0);
        const parts: Item[] = count > 0 ? await table.query({ partition: `events#${sessionID}`, beginsWith: partPrefix(Number(item.seq)), limit: count }) : [];
        events.push(eventFromItems(item, parts));
      }
      return events;
    },
    async lastSeq(sessionID) {
      const counter = await table.get(counterKey(sessionID));
      return Number(counter?.last ?? 0);
    },
  };
}

/** Items in transactions of at most `itemsPerTransaction` items and `bytesPerTransaction` bytes, in order. */
function batch(items: Item[]): Item[][] {
  const batches: Item[][] = [[]];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item));
    const current = batches.at(-1)!;
    if (current.length > 0 && (current.length >= itemsPerTransaction || bytes + size > bytesPerTransaction)) {
      batches.push([item]);
      bytes = size;
    } else {
      current.push(item);
      bytes += size;
    }
  }
  return batches;
}
