import type { Role, User, WhoAmI, Workspace } from "@ciab/protocol";
import type { HttpClient } from "./http.js";

type Options = { signal?: AbortSignal };

/** A workspace's first user, or a user added to one, with a token shown once. */
export interface UserWithToken {
  user: { id: string; name: string; role: Role };
  token: string;
}

/** `ciab.workspaces`: workspaces (created by installation admins) and their users. */
export class Workspaces {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  /** Who the token belongs to: user, workspace, role. */
  whoami(options: Options = {}): Promise<WhoAmI> {
    return this.#http.json<WhoAmI>("GET", "/api/v1/whoami", options);
  }

  /** Every workspace for installation admins; the caller's own for everyone else. */
  async list(options: Options & { after?: string; limit?: number } = {}): Promise<Workspace[]> {
    const body = await this.#http.json<{ workspaces: Workspace[] }>("GET", "/api/v1/workspaces", {
      query: { after: options.after, limit: options.limit },
      signal: options.signal,
    });
    return body.workspaces;
  }

  /** Installation admins only; names are unique (`ConflictError` otherwise). */
  create(
    request: { name: string; user_name?: string; role?: Role },
    options: Options = {},
  ): Promise<UserWithToken & { workspace: Workspace }> {
    return this.#http.json("POST", "/api/v1/workspaces", { json: request, signal: options.signal });
  }

  async listUsers(workspaceID: string, options: Options = {}): Promise<User[]> {
    return (await this.#http.json<{ users: User[] }>("GET", `${usersPath(workspaceID)}`, options)).users;
  }

  addUser(workspaceID: string, request: { name: string; role?: Role }, options: Options = {}): Promise<UserWithToken> {
    return this.#http.json("POST", usersPath(workspaceID), { json: request, signal: options.signal });
  }

  setUserRole(workspaceID: string, userID: string, role: Role, options: Options = {}): Promise<User> {
    return this.#http.json("PATCH", `${usersPath(workspaceID)}/${encodeURIComponent(userID)}`, { json: { role }, signal: options.signal });
  }

  /** Their tokens stop working at once; their sandboxes and sessions stay. */
  removeUser(workspaceID: string, userID: string, options: Options = {}): Promise<User> {
    return this.#http.json("DELETE", `${usersPath(workspaceID)}/${encodeURIComponent(userID)}`, options);
  }
}

function usersPath(workspaceID: string): string {
  return `/api/v1/workspaces/${encodeURIComponent(workspaceID)}/users`;
}
