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
    /** Every workspace for installation admins; the caller's own for everyone else. */
    async list(principal: Principal, filter: { after?: string | undefined; limit: number }) {
      if (principal.installationAdmin) return store.workspaces.list(filter);
      const own = await store.workspaces.get(principal.workspaceID);
      return own && (filter.after === undefined || own.id > filter.after) ? [own] : [];
    },

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

    /**
     * Adds a user (and their first token) to a workspace: what a workspace admin administers. A workspace
     * admin may do it in their own workspace only; another workspace is not found, whether it exists or not.
     * Installation admins may do it anywhere.
     */
    async addUser(principal: Principal, workspaceID: string, request: { name: string; role?: UserRecord["role"] | undefined }) {
      const own = principal.workspaceID === workspaceID;
      const workspace = own || principal.installationAdmin ? await store.workspaces.get(workspaceID) : undefined;
      if (!workspace) throw new CiabError("not_found", `no workspace ${workspaceID}`);
      if (!principal.installationAdmin && principal.role !== "admin") {
        throw new CiabError("forbidden", "only the workspace's admins add users to it");
      }
      const user: UserRecord = {
        id: newID("usr"),
        workspaceID,
        name: request.name,
        role: request.role ?? "member",
        installationAdmin: false,
        createdAt: new Date().toISOString(),
      };
      await store.users.create(user);
      const token = await auth.issueToken(user, `first token of ${user.name}`);
      return { user, token };
    },
  };
}

export type WorkspaceService = ReturnType<typeof createWorkspaceService>;
