import { CiabError } from "@ciab/protocol";
import type { Store } from "../store/store.js";
import type { TokenRecord, UserRecord } from "../store/records.js";
import type { AuthService, Principal } from "./auth-service.js";

export interface CreateTokenRequest {
  name: string;
  role?: UserRecord["role"] | undefined;
  expires_in_secs?: number | undefined;
}

/** A token as its owner and their admins see it: never the text or its hash. */
export interface TokenView {
  record: TokenRecord;
  /** What the token may do now: `member` when it or its user is one, else `admin`. */
  role: UserRecord["role"];
}

/**
 * API tokens of the caller (and, for workspace admins, of everyone in their workspace). A token never
 * carries more than its creator's rights, and revoking one ends its open streams at once.
 */
export function createTokenService(store: Store, auth: AuthService) {
  async function user(principal: Principal): Promise<UserRecord> {
    const found = await store.users.get(principal.userID);
    if (!found || found.removedAt) throw new CiabError("unauthorized", "the calling user no longer exists");
    return found;
  }

  async function view(record: TokenRecord, users: Map<string, UserRecord | undefined>): Promise<TokenView> {
    if (!users.has(record.userID)) users.set(record.userID, await store.users.get(record.userID));
    // A token's role only narrows its user's, and a user demoted since holds the lower role.
    return { record, role: record.role === "member" ? "member" : (users.get(record.userID)?.role ?? "member") };
  }

  return {
    async create(principal: Principal, request: CreateTokenRequest): Promise<{ token: string; view: TokenView }> {
      if (request.role === "admin" && principal.role !== "admin") {
        throw new CiabError("forbidden", "a token cannot carry more rights than the token that creates it");
      }
      const owner = await user(principal);
      const expiresAt =
        request.expires_in_secs === undefined ? undefined : new Date(Date.now() + request.expires_in_secs * 1000).toISOString();
      // A narrowed caller's tokens stay narrowed, whatever they ask for.
      const role = principal.role === "member" && owner.role === "admin" ? "member" : request.role;
      const { token, record } = await auth.createToken(owner, request.name, { role, expiresAt });
      return { token, view: await view(record, new Map([[owner.id, owner]])) };
    },

    /** The caller's own tokens; a workspace admin's list holds every token of the workspace. */
    async list(principal: Principal): Promise<TokenView[]> {
      const records = await store.tokens.list(principal.workspaceID, principal.role === "admin" ? {} : { userID: principal.userID });
      const users = new Map<string, UserRecord | undefined>();
      const views: TokenView[] = [];
      for (const record of records) views.push(await view(record, users));
      return views;
    },

    /**
     * Another user's token is not found for a member, like another workspace's for anyone; an installation
     * admin's is forbidden to everyone but installation admins.
     */
    async revoke(principal: Principal, id: string): Promise<TokenView> {
      const record = await store.tokens.get(principal.workspaceID, id);
      if (!record || record.revokedAt !== null || (principal.role !== "admin" && record.userID !== principal.userID)) {
        throw new CiabError("not_found", `no token ${id} in this workspace`);
      }
      // Only installation admins act on installation admins (decision 0027), their tokens included.
      if (record.userID !== principal.userID && !principal.installationAdmin && (await store.users.get(record.userID))?.installationAdmin) {
        throw new CiabError("forbidden", "that token belongs to an installation admin: only installation admins revoke it");
      }
      const at = new Date().toISOString();
      await store.tokens.revoke(id, at);
      auth.revoked([id]);
      return view({ ...record, revokedAt: at }, new Map());
    },
  };
}

export type TokenService = ReturnType<typeof createTokenService>;
