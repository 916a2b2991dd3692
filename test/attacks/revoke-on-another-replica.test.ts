import { afterEach, beforeEach, expect, test } from "vitest";
import path from "node:path";
import { createAuthService, type AuthService, type Principal } from "../../packages/server/src/services/auth-service.js";
import { createTokenService } from "../../packages/server/src/services/token-service.js";
import { createUserService } from "../../packages/server/src/services/user-service.js";
import { createSqliteStore } from "../../packages/server/src/store/sqlite/index.js";
import type { Store } from "../../packages/server/src/store/store.js";
import type { UserRecord } from "../../packages/server/src/store/records.js";
import { makeTempDirectory } from "../harness/temp-directory.js";

/**
 * Two replicas share one store (DESIGN.md: several replicas may share Postgres or DynamoDB; here two SQLite
 * connections to one file). A request is open on one replica when an admin revokes its token, or removes its
 * user, through the other: the open request is cut within a bounded time, not left to run until it ends.
 */
let temp: { path: string; remove(): void };
let stores: Store[];
let here: AuthService;
let there: AuthService;
let admin: Principal;
let leaver: UserRecord;

beforeEach(async () => {
  temp = makeTempDirectory("ciab-replicas-");
  const filename = path.join(temp.path, "ciab.db");
  stores = [createSqliteStore({ filename }), createSqliteStore({ filename })];
  await stores[0]!.migrate();
  const now = new Date().toISOString();
  await stores[0]!.workspaces.create({ id: "ws_replicas", name: "replicas", createdAt: now });
  const adminUser: UserRecord = { id: "usr_admin", workspaceID: "ws_replicas", name: "admin", role: "admin", installationAdmin: false, createdAt: now };
  leaver = { id: "usr_leaver", workspaceID: "ws_replicas", name: "leaver", role: "member", installationAdmin: false, createdAt: now };
  await stores[0]!.users.create(adminUser);
  await stores[0]!.users.create(leaver);
  here = createAuthService(stores[0]!, { recheckMs: 200 });
  there = createAuthService(stores[1]!, { recheckMs: 200 });
  admin = await here.authenticate(`Bearer ${await here.issueToken(adminUser, "admin")}`);
});

afterEach(async () => {
  for (const store of stores) await store.close();
  temp.remove();
});

/** Opens a request on the replica `there` with a fresh token of the leaver; answers whether it was cut within `limitMs`. */
async function openThere(act: (principal: Principal) => Promise<unknown>, limitMs = 3_000): Promise<boolean> {
  const principal = await there.authenticate(`Bearer ${await there.issueToken(leaver, "leaver")}`);
  const cut = new Promise<boolean>((resolve) => {
    there.watch(principal, () => resolve(true));
    setTimeout(() => resolve(false), limitMs).unref();
  });
  await act(principal);
  return cut;
}

test("a token revoked on another replica cuts the request open here", async () => {
  expect(await openThere((principal) => createTokenService(stores[0]!, here).revoke(admin, principal.tokenID))).toBe(true);
});

test("a user removed on another replica cuts the request open here", async () => {
  expect(await openThere(() => createUserService(stores[0]!, here).remove(admin, "ws_replicas", leaver.id))).toBe(true);
});

test("a token that still stands is not cut by the look-ups", async () => {
  expect(await openThere(async () => undefined, 1_000)).toBe(false);
});

test("an admin demoted on another replica has what they opened as an admin cut here", async () => {
  await stores[0]!.users.setRole(leaver.id, "admin");
  expect(await openThere(() => createUserService(stores[0]!, here).setRole(admin, "ws_replicas", leaver.id, "member"))).toBe(true);
});

test("a member's open request is not cut by a change of someone else's role", async () => {
  expect(await openThere(() => createUserService(stores[0]!, here).setRole(admin, "ws_replicas", admin.userID, "admin"), 1_000)).toBe(false);
});
