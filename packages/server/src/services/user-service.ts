import { CiabError } from "@ciab/protocol";
import type { Store } from "../store/store.js";
import type { UserRecord } from "../store/records.js";
import type { AuthService, Principal } from "./auth-service.js";

/**
 * The users of a workspace (decision 0009): anyone in it may list them; its admins, and installation admins,
 * change roles and remove users. Another workspace is not found for everyone else. Installation admins are
 * changed only by installation admins, and a workspace always keeps one admin.
 */
export function createUserService(store: Store, auth: AuthService) {
  async function workspaceOf(principal: Principal, workspaceID: string) {
    const visible = principal.workspaceID === workspaceID || principal.installationAdmin;
    const workspace = visible ? await store.workspaces.get(workspaceID) : undefined;
    if (!workspace) throw new CiabError("not_found", `no workspace ${workspaceID}`);
    return workspace;
  }

  async function target(principal: Principal, workspaceID: string, userID: string): Promise<UserRecord> {
    await workspaceOf(principal, workspaceID);
    if (!principal.installationAdmin && principal.role !== "admin") {
      throw new CiabError("forbidden", "only the workspace's admins change its users");
    }
    const user = await store.users.get(userID);
    if (!user || user.workspaceID !== workspaceID || user.removedAt) throw new CiabError("not_found", `no user ${userID} in workspace ${workspaceID}`);
    if (user.installationAdmin && !principal.installationAdmin) {
      throw new CiabError("forbidden", `${user.name} is an installation admin: only installation admins change them`);
    }
    return user;
  }

  async function keepAnAdmin(user: UserRecord): Promise<void> {
    if (user.role !== "admin") return;
    const admins = (await store.users.list(user.workspaceID)).filter((other) => other.role === "admin");
    if (admins.length <= 1) {
      throw new CiabError("conflict", `${user.name} is the workspace's last admin: make another user admin first`);
    }
  }

  return {
    /** Who is calling, with names for people. */
    async whoami(principal: Principal) {
      const [user, workspace] = await Promise.all([store.users.get(principal.userID), store.workspaces.get(principal.workspaceID)]);
      return {
        user_id: principal.userID,
        user_name: user?.name ?? principal.userID,
        workspace_id: principal.workspaceID,
        workspace_name: workspace?.name ?? principal.workspaceID,
        role: principal.role,
        installation_admin: principal.installationAdmin,
        token_id: principal.tokenID,
      };
    },

    async list(principal: Principal, workspaceID: string): Promise<UserRecord[]> {
      await workspaceOf(principal, workspaceID);
      return store.users.list(workspaceID);
    },

    async setRole(principal: Principal, workspaceID: string, userID: string, role: UserRecord["role"]): Promise<UserRecord> {
      const user = await target(principal, workspaceID, userID);
      if (user.role === role) return user;
      if (role === "member") await keepAnAdmin(user);
      await store.users.setRole(userID, role);
      if (role === "member") auth.demoted(userID);
      else auth.forgetUser(userID);
      return { ...user, role };
    },

    /** Revokes the user's tokens (ending their open streams); their sandboxes and sessions stay. */
    async remove(principal: Principal, workspaceID: string, userID: string): Promise<UserRecord> {
      const user = await target(principal, workspaceID, userID);
      await keepAnAdmin(user);
      const tokenIDs = await store.tokens.idsOfUser(userID);
      const at = new Date().toISOString();
      await store.users.remove(userID, at);
      auth.revoked(tokenIDs);
      auth.forgetUser(userID);
      return { ...user, removedAt: at };
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
