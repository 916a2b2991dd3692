import { afterEach, describe } from "vitest";
import type { Store } from "../store.js";
import { identityContract } from "./identity-contract.js";
import { sandboxContract } from "./sandbox-contract.js";
import { sessionEventContract } from "./session-event-contract.js";
import { recordsContract } from "./records-contract.js";

/** Makes a fresh, migrated store that shares nothing with the stores made before it. */
export type MakeStore = () => Promise<Store>;

/**
 * The one behaviour every Store implementation must have, run on each of them (sqlite, dynamodb…) by their
 * own test files: `describeStoreContract("SQLite", () => …)`.
 */
export function describeStoreContract(name: string, makeStore: MakeStore): void {
  describe(`${name} store contract`, () => {
    const open: Store[] = [];
    // Every test starts with workspaces ws_a and ws_b (SQLite's foreign keys want them).
    const fresh: MakeStore = async () => {
      const store = await makeStore();
      open.push(store);
      const createdAt = new Date().toISOString();
      for (const id of ["ws_a", "ws_b"]) await store.workspaces.create({ id, name: id, createdAt });
      return store;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((store) => store.close()));
    });
    identityContract(fresh);
    sandboxContract(fresh);
    sessionEventContract(fresh);
    recordsContract(fresh);
  });
}
