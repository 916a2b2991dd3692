import { afterEach, beforeEach, expect, test } from "vitest";
import { createAuthService, type AuthService } from "../../packages/server/src/services/auth-service.js";
import { createTokenService } from "../../packages/server/src/services/token-service.js";
import { createSqliteStore } from "../../packages/server/src/store/sqlite/index.js";
import type { Store } from "../../packages/server/src/store/store.js";

/**
 * A token about to be revoked keeps opening streams and sending requests, hoping one lands across the revoke:
 * authenticated just before it, but watched (SSE, attach) or cached just after. Neither may outlive it.
 */
let store: Store;
let gate: { open: () => void; wait: Promise<void> } | undefined;
let auth: AuthService;
let token: string;

beforeEach(async () => {
  const real = createSqliteStore({ filename: ":memory:" });
  await real.migrate();
  // The real store, with a pause after a token lookup has read its row: the in-flight request of the race.
  store = {
    ...real,
    tokens: {
      ...real.tokens,
      async findByHash(hash, now) {
        const found = await real.tokens.findByHash(hash, now);
        await gate?.wait;
        return found;
      },
    },
  };
  const now = new Date().toISOString();
  await store.workspaces.create({ id: "ws_race", name: "race", createdAt: now });
  const user = { id: "usr_race", workspaceID: "ws_race", name: "leaver", role: "admin" as const, installationAdmin: false, createdAt: now };
  await store.users.create(user);
  auth = createAuthService(store);
  token = await auth.issueToken(user, "about to be revoked");
});

afterEach(async () => {
  gate = undefined;
  await store.close();
});

function pauseLookups(): () => void {
  let open = () => {};
  gate = { open: () => open(), wait: new Promise<void>((resolve) => (open = resolve)) };
  return () => gate!.open();
}

test("a stream whose token was revoked between authentication and its watch ends at once", async () => {
  const principal = await auth.authenticate(`Bearer ${token}`);
  // The route is still preparing its stream (an agent round trip for attach) when the admin revokes.
  await createTokenService(store, auth).revoke({ ...principal, tokenID: "tok_admin", userID: "usr_other" }, principal.tokenID);
  const ended = await new Promise<boolean>((resolve) => {
    auth.watch(principal, () => resolve(true));
    setTimeout(() => resolve(false), 2_000).unref();
  });
  expect(ended).toBe(true);
});

test("a lookup in flight while the token is revoked does not cache it for later requests", async () => {
  const release = pauseLookups();
  const inFlight = auth.authenticate(`Bearer ${token}`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const principal = { userID: "usr_race", workspaceID: "ws_race", role: "admin" as const, installationAdmin: false, tokenID: "tok_admin" };
  const tokenID = (await store.tokens.list("ws_race"))[0]!.id;
  await createTokenService(store, auth).revoke(principal, tokenID);
  release();
  await inFlight;
  gate = undefined;
  await expect(auth.authenticate(`Bearer ${token}`)).rejects.toMatchObject({ code: "unauthorized" });
});
