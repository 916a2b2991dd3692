import { CiabError, sandboxStates, type SandboxState } from "@ciab/protocol";
import { billsIn, sliceByHour } from "../metering.js";
import type { SandboxListFilter, SandboxRepository } from "../store.js";
import type { SandboxRecord } from "../records.js";
import { type DynamoTable, type Item, type TransactItem, sleep } from "./dynamodb-table.js";
import { byID, conditionParts, fromItem, mainKey, modify, putTransactItem, toItem, type ItemLayout } from "./dynamodb-items.js";
import { usageTransactItems, workspaceHourCost } from "./usage-repository.js";

const layout: ItemLayout<SandboxRecord> = {
  kind: "sandbox",
  keys: (record) => ({
    ...mainKey("sandbox", record.id),
    gsi1pk: `sandbox#${record.workspaceID}`,
    gsi1sk: record.id,
    gsi2pk: `sandbox-state#${record.state}`,
    gsi2sk: record.id,
  }),
};

/** Hours folded in one transaction (two ledger items each, within DynamoDB's 100 items). */
const hoursPerFold = 40;
/** Length of the admission list past which a plain create prunes it first. */
const pruneAt = 200;
/** Tries of an admitted create against other admitted creates of the workspace before `conflict`. */
const admitTries = 30;

/**
 * The workspace's admission item: a version every create of the workspace moves, and the ids of its sandboxes
 * that may still be live, so the cost cap reads them strongly consistent (never from a lagging index).
 */
const admissionKey = (workspaceID: string) => mainKey("admission", workspaceID);

export function createSandboxRepository(table: DynamoTable): SandboxRepository {
  const key = (id: string) => mainKey("sandbox", id);

  async function byStates(states: readonly SandboxState[]): Promise<SandboxRecord[]> {
    const lists = await Promise.all(states.map((state) => table.query({ index: "gsi2", partition: `sandbox-state#${state}` })));
    return lists.flat().map((item) => fromItem<SandboxRecord>(item)).sort(byID);
  }

  const matches = (filter: SandboxListFilter) => (record: SandboxRecord) =>
    (filter.includeTerminated || record.state !== "terminated") && (!filter.states?.length || filter.states.includes(record.state));

  /**
   * Changes the record and folds its open cost interval up to `now` in the same transaction; an interval
   * longer than `hoursPerFold` hours is folded in steps first.
   */
  async function foldAndChange(id: string, now: Date, patch: Partial<SandboxRecord>): Promise<SandboxRecord | undefined> {
    for (;;) {
      const current = await table.get(key(id));
      if (!current) return undefined;
      const since = current.meteredSince;
      if (typeof since !== "string" || now.getTime() - Date.parse(since) <= hoursPerFold * 3_600_000) break;
      await fold(id, new Date(Date.parse(since) + hoursPerFold * 3_600_000), {}, true);
    }
    return fold(id, now, patch, false);
  }

  function fold(id: string, now: Date, patch: Partial<SandboxRecord>, keepOpen: boolean): Promise<SandboxRecord | undefined> {
    let slicesOf: (current: SandboxRecord) => ReturnType<typeof sliceByHour> = () => [];
    return modify(
      table,
      layout,
      key(id),
      (current) => {
        const slices = current.meteredSince === null ? [] : sliceByHour(Date.parse(current.meteredSince), now.getTime(), current.usdPerHour);
        slicesOf = () => slices;
        const state = patch.state ?? current.state;
        const bills = keepOpen ? current.meteredSince !== null : billsIn(state, current.billsPaused);
        return {
          ...patch,
          costUSD: current.costUSD + slices.reduce((sum, slice) => sum + slice.costUSD, 0),
          meteredSince: bills ? now.toISOString() : null,
          ...(!keepOpen && { updatedAt: new Date().toISOString() }),
        };
      },
      (current) => slicesOf(current).flatMap((slice) => usageTransactItems(table, current, slice)),
    );
  }

  const repository: SandboxRepository = {
    async create(record) {
      // Registered with the workspace's admission item, so an admitted create counts it. A long list is first
      // pruned of terminated sandboxes (the admitted path with no judgement), so it stays far below 400 KB.
      const admission = await table.get(admissionKey(record.workspaceID));
      if (((admission?.sandboxIDs as string[] | undefined)?.length ?? 0) >= pruneAt) {
        await repository.createAdmitted(record, "", () => undefined);
        return;
      }
      const created = await table.transact([
        putTransactItem(table, toItem(layout, record, 1), { expression: "attribute_not_exists(pk)" }),
        {
          Update: {
            TableName: table.name,
            Key: admissionKey(record.workspaceID),
            UpdateExpression: "SET #ids = list_append(if_not_exists(#ids, :empty), :id) ADD #version :one",
            ExpressionAttributeNames: { "#ids": "sandboxIDs", "#version": "itemVersion" },
            ExpressionAttributeValues: { ":empty": [], ":id": [record.id], ":one": 1 },
          },
        },
      ]);
      if (!created) throw new CiabError("already_exists", `sandbox ${record.id} exists`);
    },
    async get(workspaceID, id) {
      const item = await table.get(key(id));
      return item && item.workspaceID === workspaceID ? fromItem<SandboxRecord>(item) : undefined;
    },
    async list(workspaceID, filter = {}) {
      const items = await table.query({ index: "gsi1", partition: `sandbox#${workspaceID}` });
      return items.map((item) => fromItem<SandboxRecord>(item)).filter(matches(filter));
    },
    async listAll(filter = {}) {
      const states = filter.states?.length ? filter.states : sandboxStates.filter((state) => filter.includeTerminated || state !== "terminated");
      return (await byStates(states)).filter(matches(filter));
    },
    async update(id, patch) {
      const updated =
        patch.state === undefined && patch.usdPerHour === undefined
          ? await modify(table, layout, key(id), () => ({ ...patch, updatedAt: new Date().toISOString() }))
          : await foldAndChange(id, new Date(), patch);
      if (!updated) throw new CiabError("sandbox_not_found", `sandbox ${id} not found`);
      return updated;
    },
    async listDue(now, limit) {
      const at = now.toISOString();
      const due = (await byStates(["ready", "paused"])).filter((record) => {
        const deadline = record.state === "ready" ? record.expiresAt : record.deleteAfter;
        return deadline === null || deadline === undefined || deadline <= at;
      });
      return due.slice(0, limit);
    },
    async accrue(id, now = new Date()) {
      const item = await table.get(key(id));
      if (!item) return undefined;
      if (item.meteredSince === null || item.meteredSince === undefined) return fromItem<SandboxRecord>(item);
      return foldAndChange(id, now, {});
    },
    async createAdmitted(record, hour, admit) {
      for (let attempt = 1; attempt <= admitTries; attempt++) {
        const admission = await table.get(admissionKey(record.workspaceID));
        const version = Number(admission?.itemVersion ?? 0);
        const ids = (admission?.sandboxIDs as string[] | undefined) ?? [];
        const items = await table.batchGet(ids.map((id) => key(id)));
        const live = items.map((item: Item) => fromItem<SandboxRecord>(item)).filter((sandbox) => sandbox.state !== "terminated").sort(byID);
        admit({ foldedUSD: await workspaceHourCost(table, record.workspaceID, hour), sandboxes: live });
        const admitted: TransactItem[] = [
          putTransactItem(table, toItem(layout, record, 1), { expression: "attribute_not_exists(pk)" }),
          {
            Put: {
              TableName: table.name,
              // Terminated and failed sandboxes (final, never billing) leave the list here, so it holds only
              // what may still cost.
              Item: {
                ...admissionKey(record.workspaceID),
                itemType: "admission",
                itemVersion: version + 1,
                sandboxIDs: [...live.filter((sandbox) => sandbox.state !== "failed").map((sandbox) => sandbox.id), record.id],
              },
              ...conditionParts(
                version === 0
                  ? { expression: "attribute_not_exists(pk)" }
                  : { expression: "#version = :version", names: { "#version": "itemVersion" }, values: { ":version": version } },
              ),
            },
          },
        ];
        if (await table.transact(admitted)) return;
        if (await table.get(key(record.id))) throw new CiabError("already_exists", `sandbox ${record.id} exists`);
        await sleep(20 * attempt * Math.random());
      }
      throw new CiabError("conflict", `too many sandboxes of workspace ${record.workspaceID} are being created at once; try again`, { retryable: true });
    },
  };
  return repository;
}
