import path from "node:path";
import { loadConfig } from "../config/load-config.js";
import { createStore } from "./create-store.js";

export interface InitStoreOptions {
  configPath?: string | undefined;
  dataDirectory?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

export interface InitStoreResult {
  driver: "sqlite" | "dynamodb";
  /** The SQLite file or the DynamoDB table. */
  location: string;
  /** Whether this call created the table (DynamoDB); SQLite files are migrated in place. */
  created: boolean;
}

/**
 * `ciab store init`: makes the configured store ready (creates the DynamoDB table with its indexes whatever
 * `create_table` says, or migrates the SQLite file), with the config the server would load.
 */
export async function initStore(options: InitStoreOptions = {}): Promise<InitStoreResult> {
  const env = options.env ?? process.env;
  const config = loadConfig({
    ...(options.configPath !== undefined && { configPath: options.configPath }),
    env,
    flags: { "server.data_dir": options.dataDirectory },
  });
  const dataDirectory = path.resolve(config.server.data_dir);
  if (config.store.driver === "dynamodb") {
    const { createDynamoTable } = await import("./dynamodb/dynamodb-table.js");
    const { ensureTable } = await import("./dynamodb/dynamodb-table-definition.js");
    const table = createDynamoTable({ table: config.store.table, region: config.store.region, endpoint: config.store.endpoint });
    try {
      return { driver: "dynamodb", location: config.store.table, created: await ensureTable(table.client, config.store.table) };
    } finally {
      table.client.destroy();
    }
  }
  const store = await createStore(config.store, dataDirectory, env);
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
  return { driver: "sqlite", location: config.store.sqlite_path ?? path.join(dataDirectory, "ciab.db"), created: false };
}
