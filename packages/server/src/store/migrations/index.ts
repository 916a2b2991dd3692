import type { Migration, MigrationProvider } from "kysely";
import * as initial from "./0001-initial.js";
import * as sessions from "./0002-sessions.js";
import * as budget from "./0003-budget.js";
import * as installationAdmins from "./0004-installation-admins.js";
import * as artifacts from "./0005-artifacts.js";
import * as sandboxFailureAWSCode from "./0006-sandbox-failure-aws-code.js";
import * as approvalsAudit from "./0007-approvals-audit.js";
import * as persistence from "./0008-persistence.js";
import * as accountsAndLifetimes from "./0009-accounts-and-lifetimes.js";
import * as images from "./0010-images.js";
import * as approvalDecisionNote from "./0011-approval-decision-note.js";

/** Migrations are code, listed here in order; names never change once released. */
const migrations: Record<string, Migration> = {
  "0001-initial": initial,
  "0002-sessions": sessions,
  "0003-budget": budget,
  "0004-installation-admins": installationAdmins,
  "0005-artifacts": artifacts,
  "0006-sandbox-failure-aws-code": sandboxFailureAWSCode,
  "0007-approvals-audit": approvalsAudit,
  "0008-persistence": persistence,
  "0009-accounts-and-lifetimes": accountsAndLifetimes,
  "0010-images": images,
  "0011-approval-decision-note": approvalDecisionNote,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
