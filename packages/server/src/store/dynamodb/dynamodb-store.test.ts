import { randomUUID } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { startMoto, type Moto } from "../../../../../test/harness/aws/moto.js";
import { describeStoreContract } from "../contract/store-contract.js";
import { createDynamoDBStore } from "./dynamodb-store.js";

Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto({ serial: true });
});
afterAll(async () => {
  await moto?.stop();
});

// One moto for the file; each test its own table, created by migrate() as the server does at start-up.
describeStoreContract("DynamoDB", async () => {
  const store = createDynamoDBStore({ table: `ciab-${randomUUID()}`, region: "us-east-1", endpoint: moto.endpoint, createTable: true });
  await store.migrate();
  return store;
});
