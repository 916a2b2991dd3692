import path from "node:path";
import type { Config } from "../config/config-schema.js";
import { createSqliteStore } from "./sqlite/index.js";
import type { Store } from "./store.js";

/** The store `[store] driver` names, migrated and ready. */
export async function openStore(config: Config["store"], dataDirectory: string): Promise<Store> {
  const store = createSqliteStore({ filename: config.sqlite_path ?? path.join(dataDirectory, "ciab.db") });
  await store.migrate();
  return store;
}
