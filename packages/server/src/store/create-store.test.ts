import { describe, expect, test } from "vitest";
import { loadConfig } from "../config/load-config.js";
import { shouldCreateTable } from "./create-store.js";

describe("[store] config", () => {
  test("CIAB_STORE_* set the DynamoDB driver, table, region, endpoint and create_table", () => {
    const config = loadConfig({
      configPath: undefined,
      env: {
        CIAB_STORE_DRIVER: "dynamodb",
        CIAB_STORE_TABLE: "ciab-prod-state",
        CIAB_STORE_REGION: "eu-west-1",
        CIAB_STORE_ENDPOINT: "http://127.0.0.1:4566",
        CIAB_STORE_CREATE_TABLE: "false",
      },
    });
    expect(config.store).toMatchObject({ driver: "dynamodb", table: "ciab-prod-state", region: "eu-west-1", endpoint: "http://127.0.0.1:4566", create_table: false });
    expect(() => loadConfig({ env: { CIAB_STORE_TABLE: "no spaces" } })).toThrow(/store\.table \(CIAB_STORE_TABLE\)/);
  });

  test("the table is created by default, except in AWS Lambda", () => {
    const config = loadConfig({ env: { CIAB_STORE_DRIVER: "dynamodb" } });
    expect(shouldCreateTable(config.store, {})).toBe(true);
    expect(shouldCreateTable(config.store, { AWS_LAMBDA_FUNCTION_NAME: "ciab-api" })).toBe(false);
    expect(shouldCreateTable({ ...config.store, create_table: true }, { AWS_LAMBDA_FUNCTION_NAME: "ciab-api" })).toBe(true);
  });
});
