import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import type { Store } from "../store.js";
import type { Tables } from "../kysely/tables.js";
import { createKyselyStore } from "../kysely/kysely-store.js";
import { withStatementCache } from "./statement-cache.js";

export interface SqliteStoreConfig {
  /** Database file; `:memory:` for tests. */
  filename: string;
}

/** The embedded default: one SQLite file in WAL mode, safe against a killed process. */
export function createSqliteStore(config: SqliteStoreConfig): Store {
  if (config.filename !== ":memory:") mkdirSync(path.dirname(config.filename), { recursive: true });
  const database = new Database(config.filename);
  database.pragma("journal_mode = WAL");
  // NORMAL keeps WAL durable across a process kill (not across power loss), at a fraction of FULL's cost.
  database.pragma("synchronous = NORMAL");
  database.pragma("foreign_keys = ON");
  database.pragma("busy_timeout = 5000");
  return createKyselyStore(new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) }));
}
