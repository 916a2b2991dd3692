import type { Token, User, Workspace } from "@ciab/protocol";
import { formatAge } from "./age.js";
import { formatFields, formatTable } from "./table.js";

/** What `token list` prints; a token never used shows `never`. */
export function formatTokenTable(tokens: readonly Token[], now: number = Date.now()): string {
  if (tokens.length === 0) return "no tokens";
  return formatTable(
    ["ID", "NAME", "USER", "ROLE", "EXPIRES", "LAST USED"],
    tokens.map((token) => [
      token.id,
      token.name,
      token.user_id,
      token.role,
      token.expires_at ?? "never",
      token.last_used_at ? `${formatAge(token.last_used_at, now)} ago` : "never",
    ]),
  );
}

/** What `token create` prints: the text once, on its own line last, so `| tail -1` takes it. */
export function formatCreatedToken(token: Token & { token: string }): string {
  const fields = formatFields([
    ["id", token.id],
    ["name", token.name],
    ["role", token.role],
    ["expires", token.expires_at ?? "never"],
  ]);
  return `${fields}\nthe token is shown this once; keep it now:\n${token.token}`;
}

export function formatUserTable(users: readonly User[]): string {
  if (users.length === 0) return "no users";
  return formatTable(
    ["ID", "NAME", "ROLE", "CREATED"],
    users.map((user) => [user.id, user.name, user.installation_admin ? `${user.role} (installation admin)` : user.role, user.created_at]),
  );
}

export function formatWorkspaceTable(workspaces: readonly Workspace[]): string {
  if (workspaces.length === 0) return "no workspaces";
  return formatTable(["ID", "NAME", "CREATED"], workspaces.map((workspace) => [workspace.id, workspace.name, workspace.created_at]));
}

/** What `user add` and `workspace create` print: the new user and their first token, shown once. */
export function formatUserWithToken(value: { workspace?: Workspace; user: { id: string; name: string; role: string }; token: string }): string {
  const fields: [string, string][] = [];
  if (value.workspace) fields.push(["workspace", `${value.workspace.id} (${value.workspace.name})`]);
  fields.push(["user", `${value.user.id} (${value.user.name})`], ["role", value.user.role]);
  return `${formatFields(fields)}\ntheir token is shown this once; hand it over now:\n${value.token}`;
}
