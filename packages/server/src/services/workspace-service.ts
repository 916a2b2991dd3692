import { CiabError } from "@ciab/protocol";
import { newID } from "../ids.js";
import type { Store } from "../store/store.js";
import type { UserRecord } from "../store/records.js";
import type { AuthService, Principal } from "./auth-service.js";

/**
 * Workspaces (tenants) and their first user. Creating one is an installation-wide act: only installation
 * admins may, never a workspace admin, whose rights end at their own workspace. The first user is at most a
 * workspace admin; installation rights are never handed out through the API.
 */
export function createWorkspaceService(store: Store, auth: AuthService) {
  return {
    async create(principal: Principal, request: { name: string; user_name?: string | undefined; role?: UserRecord["role"] | undefined }) {
      if (!principal.installationAdmin) throw new CiabError("forbidden", "only installation admins create workspaces");
      const now = new Date().toISOString();
      const workspace = { id: newID("ws"), name: request.name, createdAt: now };
      await store.workspaces.create(workspace);
      const user: UserRecord = {
        id: newID("usr"),
        workspaceID: workspace.id,
        name: request.user_name ?? "owner",
        role: request.role ?? "member",
        installationAdmin: false,
        createdAt: now,
      };
      await store.users.create(user);
      const token = await auth.issueToken(user, `first token of ${workspace.name}`);
      return { workspace, user, token };
    },
  };
}

export type WorkspaceService = ReturnType<typeof createWorkspaceService>;
