import type { CommandContext } from "../../context.js";

export interface StoreInitOptions {
  config?: string;
}

/** `ciab store init`: creates the configured store's DynamoDB table (or migrates the SQLite file) and says which. */
export async function init(context: CommandContext, _args: string[], options: StoreInitOptions): Promise<number> {
  // Loaded only for this command: it is the server's own config loading and store.
  const { initStore } = await import("@ciab/server");
  const result = await initStore({ configPath: options.config, dataDirectory: context.globals.dataDir ?? nonEmpty(process.env.CIAB_DATA_DIR) });
  context.print(result, formatStoreInit);
  return 0;
}

export function formatStoreInit(result: { driver: string; location: string; created: boolean }): string {
  if (result.driver === "dynamodb") return result.created ? `created DynamoDB table ${result.location}` : `DynamoDB table ${result.location} exists`;
  return `SQLite store ${result.location} is migrated`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === "" ? undefined : value;
}
