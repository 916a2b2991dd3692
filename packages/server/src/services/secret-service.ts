import { CiabError } from "@ciab/protocol";
import type { DataKey } from "../data-key.js";
import type { Store } from "../store/store.js";
import type { Principal } from "./auth-service.js";

/** Workspace secrets (model API keys, repo credentials): sealed at rest, values never returned by the API. */
export function createSecretService(store: Store, dataKey: DataKey) {
  return {
    async set(principal: Principal, name: string, value: string) {
      const now = new Date().toISOString();
      const existing = await store.secrets.get(principal.workspaceID, name);
      const record = {
        workspaceID: principal.workspaceID,
        name,
        sealedValue: dataKey.seal(value),
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
      };
      await store.secrets.put(record);
      return { name, created_at: record.createdAt, updated_at: record.updatedAt };
    },

    async list(principal: Principal) {
      const records = await store.secrets.list(principal.workspaceID);
      return records.map((record) => ({ name: record.name, created_at: record.createdAt, updated_at: record.updatedAt }));
    },

    async delete(principal: Principal, name: string) {
      if (!(await store.secrets.delete(principal.workspaceID, name))) {
        throw new CiabError("not_found", `no secret ${name} in this workspace`);
      }
    },

    /** The plaintext, for the one place that uses it (the model gateway); never logged. */
    async value(workspaceID: string, name: string): Promise<string | undefined> {
      const record = await store.secrets.get(workspaceID, name);
      return record && dataKey.open(record.sealedValue);
    },
  };
}

export type SecretService = ReturnType<typeof createSecretService>;
