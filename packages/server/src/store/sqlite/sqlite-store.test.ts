import { describeStoreContract } from "../contract/store-contract.js";
import { createSqliteStore } from "./sqlite-store.js";

describeStoreContract("SQLite", async () => {
  const store = createSqliteStore({ filename: ":memory:" });
  await store.migrate();
  return store;
});
