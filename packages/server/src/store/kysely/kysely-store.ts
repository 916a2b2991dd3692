import { Migrator, type Kysely } from "kysely";
import { CiabError } from "@ciab/protocol";
import type { Store } from "../store.js";
import { migrationProvider } from "../migrations/index.js";
import type { Tables } from "./tables.js";
import {
  createMetaRepository,
  createTokenRepository,
  createUserRepository,
  createWorkspaceRepository,
} from "./identity-repositories.js";
import { createSandboxRepository } from "./sandbox-repository.js";
import { createSecretRepository } from "./secret-repository.js";
import { createSessionRepository } from "./session-repository.js";
import { createEventRepository } from "./event-repository.js";
import { createUsageRepository } from "./usage-repository.js";
import { createImageBuildRepository, createImageRepository } from "./image-repositories.js";
import { createArtifactRepository, createDownloadRepository } from "./artifact-repository.js";
import { createApprovalRepository, createAuditRepository } from "./approval-audit-repository.js";
import { createVolumeRepository } from "./volume-repository.js";

/** A Store over any Kysely dialect; sqlite/ and postgres/ differ only in how they open the database. */
export function createKyselyStore(db: Kysely<Tables>): Store {
  return {
    meta: createMetaRepository(db),
    workspaces: createWorkspaceRepository(db),
    users: createUserRepository(db),
    tokens: createTokenRepository(db),
    sandboxes: createSandboxRepository(db),
    secrets: createSecretRepository(db),
    sessions: createSessionRepository(db),
    events: createEventRepository(db),
    usage: createUsageRepository(db),
    artifacts: createArtifactRepository(db),
    downloads: createDownloadRepository(db),
    approvals: createApprovalRepository(db),
    audit: createAuditRepository(db),
    volumes: createVolumeRepository(db),
    imageBuilds: createImageBuildRepository(db),
    images: createImageRepository(db),
    async migrate() {
      const { error, results } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
      if (error) {
        const failed = results?.find((result) => result.status === "Error")?.migrationName ?? "unknown";
        throw new CiabError("internal", `database migration ${failed} failed: ${String(error)}`, { cause: error });
      }
    },
    async close() {
      await db.destroy();
    },
  };
}
