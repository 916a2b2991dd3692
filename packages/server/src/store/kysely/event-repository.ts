import type { Kysely } from "kysely";
import type { SessionEvent } from "@ciab/protocol";
import type { EventRepository } from "../store.js";
import type { Tables } from "./tables.js";

export function createEventRepository(db: Kysely<Tables>): EventRepository {
  return {
    async append(events, sessionPatch) {
      if (events.length === 0 && !sessionPatch) return;
      await db.transaction().execute(async (transaction) => {
        if (events.length > 0) {
          // Chunked: SQLite limits bound variables per statement.
          for (let index = 0; index < events.length; index += 100) {
            await transaction
              .insertInto("events")
              .values(
                events.slice(index, index + 100).map((event) => ({
                  session_id: event.session_id,
                  seq: event.seq,
                  type: event.type,
                  data: JSON.stringify(event.data),
                  raw: event.raw ?? null,
                  created_at: event.created_at,
                })),
              )
              .execute();
          }
        }
        if (sessionPatch) {
          await transaction
            .updateTable("sessions")
            .set({ stdout_offset: sessionPatch.stdoutOffset, updated_at: new Date().toISOString() })
            .where("id", "=", sessionPatch.sessionID)
            .execute();
        }
      });
    },
    async list(sessionID, after, limit) {
      const rows = await db
        .selectFrom("events")
        .selectAll()
        .where("session_id", "=", sessionID)
        .where("seq", ">", after)
        .orderBy("seq")
        .limit(limit)
        .execute();
      return rows.map((row): SessionEvent => {
        const event: SessionEvent = {
          seq: row.seq,
          session_id: row.session_id,
          type: row.type as SessionEvent["type"],
          data: JSON.parse(row.data) as Record<string, unknown>,
          created_at: row.created_at,
        };
        if (row.raw !== null) event.raw = row.raw;
        return event;
      });
    },
    async lastSeq(sessionID) {
      const row = await db
        .selectFrom("events")
        .select((eb) => eb.fn.max("seq").as("seq"))
        .where("session_id", "=", sessionID)
        .executeTakeFirst();
      return Number(row?.seq ?? 0);
    },
  };
}
