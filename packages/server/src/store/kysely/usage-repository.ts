import type { Kysely, Transaction } from "kysely";
import type { UsageAggregate, UsageRepository } from "../store.js";
import type { UsageHourRow, Tables } from "./tables.js";

/** Adds seconds and cost to a sandbox's hour, creating the row on its first slice. */
export async function addUsageHour(db: Kysely<Tables> | Transaction<Tables>, row: UsageHourRow): Promise<void> {
  const existing = await db
    .selectFrom("usage_hours")
    .select(["seconds", "cost_usd"])
    .where("sandbox_id", "=", row.sandbox_id)
    .where("hour", "=", row.hour)
    .executeTakeFirst();
  if (!existing) {
    await db.insertInto("usage_hours").values(row).execute();
    return;
  }
  await db
    .updateTable("usage_hours")
    .set({ seconds: existing.seconds + row.seconds, cost_usd: existing.cost_usd + row.cost_usd })
    .where("sandbox_id", "=", row.sandbox_id)
    .where("hour", "=", row.hour)
    .execute();
}

export function createUsageRepository(db: Kysely<Tables>): UsageRepository {
  return {
    async workspaceHourCost(workspaceID, hour) {
      const row = await db
        .selectFrom("usage_hours")
        .select((eb) => eb.fn.sum<number | string | null>("cost_usd").as("total"))
        .where("workspace_id", "=", workspaceID)
        .where("hour", "=", hour)
        .executeTakeFirst();
      return Number(row?.total ?? 0);
    },
    async aggregate(filter) {
      let query = db
        .selectFrom("usage_hours")
        .select((eb) => [
          "workspace_id",
          "user_id",
          "runtime",
          eb.fn<string>("substr", ["hour", eb.val(1), eb.val(10)]).as("day"),
          eb.fn.sum<number | string>("seconds").as("seconds"),
          eb.fn.sum<number | string>("cost_usd").as("cost_usd"),
        ])
        .where("hour", ">=", filter.fromHour)
        .where("hour", "<=", filter.toHour);
      if (filter.workspaceID !== undefined) query = query.where("workspace_id", "=", filter.workspaceID);
      const rows = await query.groupBy(["workspace_id", "user_id", "runtime", "day"]).orderBy("day").limit(filter.limit).execute();
      return rows.map(
        (row): UsageAggregate => ({
          workspaceID: row.workspace_id,
          userID: row.user_id,
          runtime: row.runtime,
          day: row.day,
          seconds: Number(row.seconds),
          costUSD: Number(row.cost_usd),
        }),
      );
    },
  };
}
