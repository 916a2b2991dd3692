import type { Store } from "../store.js";
import { createDynamoTable, type DynamoTableConfig } from "./dynamodb-table.js";
import { ensureTable, missingTableError, tableExists } from "./dynamodb-table-definition.js";
import { createMetaRepository, createTokenRepository, createUserRepository, createWorkspaceRepository } from "./identity-repositories.js";
import { createSandboxRepository } from "./sandbox-repository.js";
import { createSecretRepository } from "./secret-repository.js";
import { createSessionRepository } from "./session-repository.js";
import { createEventRepository } from "./event-repository.js";
import { createUsageRepository } from "./usage-repository.js";
import { createArtifactRepository, createDownloadRepository } from "./artifact-repository.js";
import { createApprovalRepository, createAuditRepository } from "./approval-audit-repository.js";
import { createVolumeRepository } from "./volume-repository.js";
import { createImageBuildRepository, createImageRepository } from "./image-repositories.js";

export interface DynamoDBStoreConfig extends DynamoTableConfig {
  /** Whether `migrate()` creates the table when it is missing (off where the table is deployed, as in Lambda). */
  createTable: boolean;
}

/**
 * The serverless store: every repository on one DynamoDB table (docs/decisions/0035-dynamodb-store.md).
 * Nothing is sent until the first call.
 */
export function createDynamoDBStore(config: DynamoDBStoreConfig): Store {
  const table = createDynamoTable(config);
  return {
    meta: createMetaRepository(table),
    workspaces: createWorkspaceRepository(table),
    users: createUserRepository(table),
    tokens: createTokenRepository(table),
    sandboxes: createSandboxRepository(table),
    secrets: createSecretRepository(table),
    sessions: createSessionRepository(table),
    events: createEventRepository(table),
    usage: createUsageRepository(table),
    artifacts: createArtifactRepository(table),
    downloads: createDownloadRepository(table),
    approvals: createApprovalRepository(table),
    audit: createAuditRepository(table),
    volumes: createVolumeRepository(table),
    imageBuilds: createImageBuildRepository(table),
    images: createImageRepository(table),
    async migrate() {
      // A schemaless table needs no migrations: only the table itself, with its keys and indexes.
      if (config.createTable) await ensureTable(table.client, config.table);
      else if (!(await tableExists(table.client, config.table))) throw missingTableError(config.table);
    },
    async close() {
      table.client.destroy();
    },
  };
}
