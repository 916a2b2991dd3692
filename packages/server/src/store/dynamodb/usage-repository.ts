import { CiabError } from "@ciab/protocol";
import type { SandboxRecord } from "../records.js";
import type { UsageAggregate, UsageRepository } from "../store.js";
import type { HourSlice } from "../metering.js";
import { mainKey } from "./dynamodb-items.js";
import type { DynamoTable, TransactItem } from "./dynamodb-table.js";

/** The most days one aggregate across workspaces reads (one index partition per day). */
const maxAggregateDays = 800;

/**
 * Ledger items of one folded slice, for the fold's transaction: the sandbox's hour (listed per workspace on
 * gsi1 and per day on gsi2) and the workspace's hour total (what the cost cap reads, strongly consistent).
 */
export function usageTransactItems(table: DynamoTable, sandbox: SandboxRecord, slice: HourSlice): TransactItem[] {
  const day = slice.hour.slice(0, 10);
  return [
    {
      Update: {
        TableName: table.name,
        Key: mainKey("usage", `${sandbox.id}#${slice.hour}`),
        UpdateExpression:
          "SET #kind = :kind, #ws = :ws, #user = :user, #runtime = :runtime, #hour = :hour, #day = :day, gsi1pk = :g1, gsi1sk = :s, gsi2pk = :g2, gsi2sk = :s ADD #seconds :seconds, #cost :cost",
        ExpressionAttributeNames: {
          "#kind": "itemType",
          "#ws": "workspaceID",
          "#user": "userID",
          "#runtime": "runtime",
          "#hour": "hour",
          "#day": "day",
          "#seconds": "seconds",
          "#cost": "costUSD",
        },
        ExpressionAttributeValues: {
          ":kind": "usage",
          ":ws": sandbox.workspaceID,
          ":user": sandbox.userID,
          ":runtime": sandbox.runtime,
          ":hour": slice.hour,
          ":day": day,
          ":g1": `usage#${sandbox.workspaceID}`,
          ":g2": `usage-day#${day}`,
          ":s": `${slice.hour}#${sandbox.id}`,
          ":seconds": slice.seconds,
          ":cost": slice.costUSD,
        },
      },
    },
    {
      Update: {
        TableName: table.name,
        Key: mainKey("usage-total", `${sandbox.workspaceID}#${slice.hour}`),
        UpdateExpression: "SET #kind = :kind ADD #cost :cost",
        ExpressionAttributeNames: { "#kind": "itemType", "#cost": "costUSD" },
        ExpressionAttributeValues: { ":kind": "usage-total", ":cost": slice.costUSD },
      },
    },
  ];
}

export async function workspaceHourCost(table: DynamoTable, workspaceID: string, hour: string): Promise<number> {
  const item = await table.get(mainKey("usage-total", `${workspaceID}#${hour}`));
  return Number(item?.costUSD ?? 0);
}

export function createUsageRepository(table: DynamoTable): UsageRepository {
  return {
    workspaceHourCost: (workspaceID, hour) => workspaceHourCost(table, workspaceID, hour),
    async aggregate(filter) {
      const range = { after: filter.fromHour, through: `${filter.toHour}#\uffff` };
      let items;
      if (filter.workspaceID !== undefined) {
        items = await table.query({ index: "gsi1", partition: `usage#${filter.workspaceID}`, ...range });
      } else {
        items = [];
        for (const day of daysBetween(filter.fromHour.slice(0, 10), filter.toHour.slice(0, 10))) {
          items.push(...(await table.query({ index: "gsi2", partition: `usage-day#${day}`, ...range })));
        }
      }
      const sums = new Map<string, UsageAggregate>();
      for (const item of items) {
        const hour = String(item.hour);
        if (hour < filter.fromHour || hour > filter.toHour) continue;
        const row = { workspaceID: String(item.workspaceID), userID: String(item.userID), runtime: String(item.runtime), day: hour.slice(0, 10) };
        const group = JSON.stringify(row);
        const sum = sums.get(group) ?? { ...row, seconds: 0, costUSD: 0 };
        sum.seconds += Number(item.seconds ?? 0);
        sum.costUSD += Number(item.costUSD ?? 0);
        sums.set(group, sum);
      }
      return [...sums.values()].sort((left, right) => (left.day < right.day ? -1 : left.day > right.day ? 1 : 0)).slice(0, filter.limit);
    },
  };
}

function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let at = Date.parse(`${from}T00:00:00Z`); at <= Date.parse(`${to}T00:00:00Z`); at += 86_400_000) {
    days.push(new Date(at).toISOString().slice(0, 10));
    if (days.length > maxAggregateDays) throw new CiabError("invalid_request", `a usage report across workspaces spans at most ${maxAggregateDays} days`);
  }
  return days;
}
