import { CiabError } from "@ciab/protocol";
import { absent, type DynamoTable, type Expression, type Item, type Key, type TransactItem, sleep, writeAttribute } from "./dynamodb-table.js";

/**
 * Records are stored generically: every field of a record is an attribute of its item, beside the key
 * attributes below, so a field added to a record type is stored and read back with no change here.
 * Record types must not use these names.
 */
const keyAttributes = ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "itemType", "itemVersion", "ttl", writeAttribute] as const;

export interface ItemKeys {
  pk: string;
  sk: string;
  gsi1pk?: string;
  gsi1sk?: string;
  gsi2pk?: string;
  gsi2sk?: string;
}

/** How one record type is laid out: its kind and the keys that follow from its fields. */
export interface ItemLayout<T> {
  kind: string;
  keys(record: T): ItemKeys;
}

/** The main item of a record: partition `<kind>#<id>`, one item per partition. */
export function mainKey(kind: string, id: string): Key {
  return { pk: `${kind}#${id}`, sk: "#" };
}

export function toItem<T extends object>(layout: ItemLayout<T>, record: T, version: number): Item {
  const item: Item = { ...record, ...layout.keys(record), itemType: layout.kind, itemVersion: version };
  return item;
}

export function fromItem<T>(item: Item): T {
  const record: Item = { ...item };
  for (const name of keyAttributes) delete record[name];
  return record as T;
}

export const versionIs = (version: number): Expression =>
  version === 0 ? absent : { expression: "#version = :version", names: { "#version": "itemVersion" }, values: { ":version": version } };

/** Most tries of a read-modify-write before the writer gives up with `conflict`. */
const maxTries = 8;

/**
 * Read-modify-write of one record under its version: the change is computed on what is stored and written
 * only if nobody wrote in between; on a lost race it is recomputed on the fresh record, as an SQL UPDATE
 * would apply, and after `maxTries` lost races the caller gets `conflict`. `extra` adds items written in the
 * same transaction (ledger rows, lookup items); `change` answering undefined leaves the record as it is.
 */
export async function modify<T extends object>(
  table: DynamoTable,
  layout: ItemLayout<T>,
  key: Key,
  change: (current: T) => Partial<T> | undefined,
  extra?: (current: T, next: T) => TransactItem[],
): Promise<T | undefined> {
  for (let attempt = 1; attempt <= maxTries; attempt++) {
    const item = await table.get(key);
    if (!item) return undefined;
    const current = fromItem<T>(item);
    const patch = change(current);
    if (patch === undefined) return current;
    const next = { ...current, ...definedOnly(patch) } as T;
    const version = Number(item.itemVersion ?? 0);
    const written = toItem(layout, next, version + 1);
    const condition = version === 0 ? { expression: "attribute_exists(pk) AND attribute_not_exists(itemVersion)" } : versionIs(version);
    const extras = extra?.(current, next) ?? [];
    const ok =
      extras.length === 0
        ? await table.put(written, condition)
        : await table.transact([{ Put: { TableName: table.name, Item: written, ...conditionParts(condition) } }, ...extras]);
    if (ok) return next;
    await sleep(10 * attempt * Math.random());
  }
  throw new CiabError("conflict", `${layout.kind} ${key.pk.slice(layout.kind.length + 1)} was changed by another writer ${maxTries} times in a row; try again`, {
    retryable: true,
  });
}

export function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** An Expression as the fields of a transaction item. */
export function conditionParts(condition: Expression | undefined) {
  if (!condition) return {};
  return {
    ConditionExpression: condition.expression,
    ...(condition.names && { ExpressionAttributeNames: condition.names }),
    ...(condition.values && { ExpressionAttributeValues: condition.values }),
  };
}

/** Creates a record's item; false when one with that key exists. */
export function createItem<T extends object>(table: DynamoTable, layout: ItemLayout<T>, record: T): Promise<boolean> {
  return table.put(toItem(layout, record, 1), absent);
}

export function putTransactItem(table: DynamoTable, item: Item, condition?: Expression): TransactItem {
  return { Put: { TableName: table.name, Item: item, ...conditionParts(condition) } };
}

/** Sort keys of ids in a listing; ids are prefixed and sort by creation time. */
export function byID<T extends { id: string }>(left: T, right: T): number {
  return left.id < right.id ? -1 : left.id > right.id ? 1 : 0;
}
