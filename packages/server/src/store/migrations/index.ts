import type { Migration, MigrationProvider } from "kysely";
import * as initial from "./0001-initial.js";

/** Migrations are code, listed here in order; names never change once released. */
const migrations: Record<string, Migration> = {
  "0001-initial": initial,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
