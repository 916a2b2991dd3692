import path from "node:path";
import type { StoreConfig } from "../config/config-schema.js";
import type { Store } from "./store.js";
import { createSqliteStore } from "./sqlite/index.js";

type StoreFactory = (config: StoreConfig, dataDirectory: string, env: NodeJS.ProcessEnv) => Promise<Store>;

/** Stores by `[store] driver`; dynamodb loads the AWS SDK only when chosen. Nothing is migrated here. */
const factories: Record<StoreConfig["driver"], StoreFactory> = {
  sqlite: async (config, dataDirectory) => createSqliteStore({ filename: config.sqlite_path ?? path.join(dataDirectory, "ciab.db") }),
  dynamodb: async (config, _dataDirectory, env) => {
    const { createDynamoDBStore } = await import("./dynamodb/index.js");
    return createDynamoDBStore({
      table: config.table,
      region: config.region,
      endpoint: config.endpoint,
      createTable: shouldCreateTable(config, env),
    });
  },
};

export function createStore(config: StoreConfig, dataDirectory: string, env: NodeJS.ProcessEnv = process.env): Promise<Store> {
  return factories[config.driver](config, dataDirectory, env);
}

/** `create_table` as set, else on everywhere but AWS Lambda (where the Foundation stack owns the table). */
export function shouldCreateTable(config: StoreConfig, env: NodeJS.ProcessEnv): boolean {
  return config.create_table ?? !env.AWS_LAMBDA_FUNCTION_NAME;
}
