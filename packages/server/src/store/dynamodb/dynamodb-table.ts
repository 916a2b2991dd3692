import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { CiabError } from "@ciab/protocol";
import { isConditionFailure, isTransactionConflict, storeError } from "./dynamodb-errors.js";

export type Item = Record<string, unknown>;
export type Key = { pk: string; sk: string };
export type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/** A condition or update expression with its names and values. */
export interface Expression {
  expression: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

export interface QueryOptions {
  /** `undefined`: the table itself (strongly consistent); else `gsi1` or `gsi2` (eventually consistent). */
  index?: "gsi1" | "gsi2" | undefined;
  partition: string;
  /** Sort keys strictly after this one. */
  after?: string | undefined;
  /** Sort keys up to and including this one. */
  through?: string | undefined;
  beginsWith?: string | undefined;
  descending?: boolean;
  /** Stops once this many items passed `keep`. */
  limit?: number;
  keep?: (item: Item) => boolean;
}

/**
 * The few DynamoDB calls the store makes, on one table: reads retry with backoff on throttling and
 * unreachability; writes retry only where a second try cannot apply twice (conditional puts, transactions
 * with a client token). Failed conditions come back as `false`, everything else as a typed CiabError.
 */
export interface DynamoTable {
  readonly name: string;
  readonly client: DynamoDBClient;
  get(key: Key): Promise<Item | undefined>;
  batchGet(keys: Key[]): Promise<Item[]>;
  query(options: QueryOptions): Promise<Item[]>;
  /** Puts the item when `condition` holds (always when absent); false when it does not. */
  put(item: Item, condition?: Expression): Promise<boolean>;
  /** Updates in place; answers the item afterwards, or undefined when `condition` failed. Retried only if `retry`. */
  update(key: Key, update: Expression, condition?: Expression, options?: { retry?: boolean }): Promise<Item | undefined>;
  /** Deletes when `condition` holds; answers whether an item was deleted. */
  delete(key: Key, condition?: Expression): Promise<boolean>;
  /** One all-or-nothing write of at most 100 items; false when a condition failed. */
  transact(items: TransactItem[]): Promise<boolean>;
}

export interface DynamoTableConfig {
  table: string;
  region: string;
  endpoint?: string | undefined;
}

const attempts = 4;
const baseDelayMs = 50;

export function createDynamoTable(config: DynamoTableConfig): DynamoTable {
  const client = new DynamoDBClient({
    region: config.region,
    ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
    // Retries are ours (below), so that non-idempotent writes are never sent twice.
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 },
  });
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const table = config.table;

  async function withRetry<T>(retry: boolean, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const typed = storeError(error, table);
        if (!retry || !typed.retryable || attempt >= attempts) throw typed;
        await sleep(baseDelayMs * 2 ** attempt * (0.5 + Math.random()));
      }
    }
  }

  const conditionInput = (condition: Expression | undefined, update?: Expression) => {
    const names = { ...update?.names, ...condition?.names };
    const values = { ...update?.values, ...condition?.values };
    return {
      ...(condition && { ConditionExpression: condition.expression }),
      ...(Object.keys(names).length > 0 && { ExpressionAttributeNames: names }),
      ...(Object.keys(values).length > 0 && { ExpressionAttributeValues: values }),
    };
  };

  async function conditional<T>(retry: boolean, call: () => Promise<T>, failed: T): Promise<T> {
    try {
      return await withRetry(retry, call);
    } catch (error) {
      if (error instanceof CiabError && isConditionFailure(error.cause)) return failed;
      throw error;
    }
  }

  async function getItem(key: Key): Promise<Item | undefined> {
    const answer = await withRetry(true, () => documents.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true })));
    return answer.Item;
  }

  return {
    name: table,
    client,
    get: getItem,
    async batchGet(keys) {
      const found: Item[] = [];
      for (let index = 0; index < keys.length; index += 100) {
        let pending: Key[] = keys.slice(index, index + 100);
        for (let round = 0; pending.length > 0; round++) {
          const answer = await withRetry(true, () =>
            documents.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } })),
          );
          found.push(...(answer.Responses?.[table] ?? []));
          pending = (answer.UnprocessedKeys?.[table]?.Keys ?? []) as Key[];
          if (pending.length > 0 && round >= attempts) {
            throw new CiabError("store_unavailable", `DynamoDB table ${table} is throttling reads`, { retryable: true, context: { table } });
          }
          if (pending.length > 0) await sleep(baseDelayMs * 2 ** round);
        }
      }
      return found;
    },
    async query(options) {
      const keyName = options.index === undefined ? "pk" : `${options.index}pk`;
      const sortName = options.index === undefined ? "sk" : `${options.index}sk`;
      const values: Record<string, unknown> = { ":p": options.partition };
      const clauses = ["#p = :p"];
      if (options.after !== undefined) {
        clauses.push(options.through !== undefined ? "#s BETWEEN :a AND :t" : "#s > :a");
        values[":a"] = options.through !== undefined ? `${options.after}\u0000` : options.after;
        if (options.through !== undefined) values[":t"] = options.through;
      } else if (options.through !== undefined) {
        clauses.push("#s <= :t");
        values[":t"] = options.through;
      } else if (options.beginsWith !== undefined) {
        clauses.push("begins_with(#s, :b)");
        values[":b"] = options.beginsWith;
      }
      const items: Item[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const answer = await withRetry(true, () =>
          documents.send(
            new QueryCommand({
              TableName: table,
              ...(options.index !== undefined && { IndexName: options.index }),
              KeyConditionExpression: clauses.join(" AND "),
              ExpressionAttributeNames: clauses.length > 1 ? { "#p": keyName, "#s": sortName } : { "#p": keyName },
              ExpressionAttributeValues: values,
              ScanIndexForward: !options.descending,
              ...(options.index === undefined && { ConsistentRead: true }),
              ...(options.limit !== undefined && options.keep === undefined && { Limit: options.limit - items.length }),
              ...(start !== undefined && { ExclusiveStartKey: start }),
            }),
          ),
        );
        for (const item of answer.Items ?? []) {
          if (options.keep && !options.keep(item)) continue;
          items.push(item);
          if (options.limit !== undefined && items.length >= options.limit) return items;
        }
        start = answer.LastEvaluatedKey;
      } while (start !== undefined);
      return items;
    },
    async put(item, condition) {
      const writeID = randomUUID();
      let tries = 0;
      const written = await conditional(
        true,
        async () => {
          tries += 1;
          await documents.send(new PutCommand({ TableName: table, Item: { ...item, [writeAttribute]: writeID }, ...conditionInput(condition) }));
          return true;
        },
        false,
      );
      if (written || tries < 2) return written;
      return (await getItem({ pk: String(item.pk), sk: String(item.sk) }))?.[writeAttribute] === writeID;
    },
    async update(key, update, condition, options = {}) {
      // A retried write whose first try was applied but not answered fails its own condition on the second:
      // each put and update marks the item with its own write id, so a failed condition names who wrote last.
      const writeID = randomUUID();
      const marked: Expression = {
        expression: /^SET\s/i.test(update.expression) ? update.expression.replace(/^SET\s/i, "SET #writeID = :writeID, ") : `SET #writeID = :writeID ${update.expression}`,
        names: { ...update.names, "#writeID": writeAttribute },
        values: { ...update.values, ":writeID": writeID },
      };
      let tries = 0;
      const applied = await conditional<Item | undefined>(
        options.retry ?? false,
        async () => {
          tries += 1;
          const answer = await documents.send(
            new UpdateCommand({ TableName: table, Key: key, UpdateExpression: marked.expression, ReturnValues: "ALL_NEW", ...conditionInput(condition, marked) }),
          );
          return answer.Attributes ?? {};
        },
        undefined,
      );
      if (applied !== undefined || tries < 2) return applied;
      const item = await getItem(key);
      return item?.[writeAttribute] === writeID ? item : undefined;
    },
    async delete(key, condition) {
      let tries = 0;
      const deleted = await conditional(
        true,
        async () => {
          tries += 1;
          const answer = await documents.send(new DeleteCommand({ TableName: table, Key: key, ReturnValues: "ALL_OLD", ...conditionInput(condition) }));
          return answer.Attributes !== undefined;
        },
        false,
      );
      // A retry after a first try that may have been applied: gone is deleted.
      if (deleted || tries < 2) return deleted;
      return (await getItem(key)) === undefined;
    },
    async transact(items) {
      // One token for every try: DynamoDB applies a retried transaction with the same token at most once.
      const token = randomUUID();
      for (let attempt = 1; ; attempt++) {
        try {
          return await conditional(
            true,
            async () => {
              await documents.send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: token }));
              return true;
            },
            false,
          );
        } catch (error) {
          if (!(error instanceof CiabError) || !isTransactionConflict(error.cause) || attempt >= attempts * 2) throw conflictOr(error);
          await sleep(baseDelayMs * 2 ** Math.min(attempt, 5) * (0.5 + Math.random()));
        }
      }
    },
  };
}

function conflictOr(error: unknown): unknown {
  if (error instanceof CiabError && isTransactionConflict(error.cause)) {
    return new CiabError("conflict", "another write to the same records kept colliding; try again", { cause: error, retryable: true });
  }
  return error;
}

/** The attribute an update marks its item with, so a retry can tell its own applied write from another's. */
export const writeAttribute = "lastWriteID";

/** Condition: the item with this key does not exist yet. */
export const absent: Expression = { expression: "attribute_not_exists(pk)" };
/** Condition: the item exists. */
export const present: Expression = { expression: "attribute_exists(pk)" };

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
