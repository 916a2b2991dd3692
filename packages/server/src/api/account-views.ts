import type { Token, User } from "@ciab/protocol";
import type { TokenView } from "../services/token-service.js";
import type { UserRecord } from "../store/records.js";

/** The API's views of tokens and users: snake_case, never a token's text or hash. */
export function tokenView({ record, role }: TokenView): Token {
  return {
    id: record.id,
    name: record.name,
    user_id: record.userID,
    role,
    created_at: record.createdAt,
    expires_at: record.expiresAt ?? null,
    last_used_at: record.lastUsedAt ?? null,
    revoked_at: record.revokedAt,
  };
}

export function userView(record: UserRecord): User {
  return {
    id: record.id,
    name: record.name,
    role: record.role,
    installation_admin: record.installationAdmin,
    created_at: record.createdAt,
  };
}
