import { randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import { CiabError } from "@ciab/protocol";
import { createDataKey } from "../../data-key.js";
import { newID } from "../../ids.js";
import type { Principal } from "../../services/auth-service.js";
import { createSqliteStore } from "../../store/sqlite/index.js";
import { accessTokenTTLSeconds, createAccessTokens } from "./access-tokens.js";

const t0 = Date.parse("2026-11-26T10:00:00.000Z");
const sandboxID = newID("sbx");
const workspaceID = newID("ws");
const userID = newID("usr");

async function setup(tokenRole: "member" | null = null, tokenExpiresAt: string | null = null) {
  const store = createSqliteStore({ filename: ":memory:" });
  await store.migrate();
  const at = new Date(t0).toISOString();
  await store.workspaces.create({ id: workspaceID, name: "a", createdAt: at });
  await store.users.create({ id: userID, workspaceID, name: "ann", role: "admin", installationAdmin: true, createdAt: at });
  const tokenID = newID("tok");
  await store.tokens.create({ id: tokenID, userID, workspaceID, name: "t", hash: "h".repeat(64), createdAt: at, revokedAt: null, role: tokenRole, expiresAt: tokenExpiresAt });
  let now = t0;
  const tokens = createAccessTokens(store, createDataKey(randomBytes(32)), () => now);
  const principal: Principal = { userID, workspaceID, role: "admin", installationAdmin: true, tokenID, tokenExpiresAt };
  return { store, tokens, principal, tokenID, advance: (ms: number) => (now += ms) };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(CiabError);
  return (error as CiabError).code;
}

describe("envd access tokens", () => {
  test("stand for their sandbox and token, with the token's narrowing, until the TTL", async () => {
    const { tokens, principal, advance } = await setup("member");
    const token = await tokens.issue(principal, sandboxID);
    const grant = await tokens.verify(token, sandboxID);
    expect(grant).toMatchObject({ sandboxID, principal: { userID, workspaceID, role: "member", installationAdmin: false } });
    advance((accessTokenTTLSeconds + 1) * 1000);
    expect(await refusal(tokens.verify(token, sandboxID))).toBe("unauthorized");
  });

  test("another sandbox, a changed part, a forged or oversized value are refused", async () => {
    const { tokens, principal } = await setup();
    const token = await tokens.issue(principal, sandboxID);
    expect(await refusal(tokens.verify(token, newID("sbx")))).toBe("sandbox_not_found");
    const parts = token.split(".");
    const otherUser = [parts[0], parts[1], newID("usr"), ...parts.slice(3)].join(".");
    const later = [...parts.slice(0, 4), String(Number(parts[4]) + 3600), parts[5]].join(".");
    for (const forged of [otherUser, later, `${token}x`, "x".repeat(600), "", undefined]) {
      expect(await refusal(tokens.verify(forged, sandboxID))).toBe("unauthorized");
    }
  });

  test("die with their API token: revoked, expired, or its user removed", async () => {
    const expiring = await setup(null, new Date(t0 + 60_000).toISOString());
    const token = await expiring.tokens.issue(expiring.principal, sandboxID);
    expect(Number(token.split(".")[4])).toBe(Math.floor((t0 + 60_000) / 1000));
    expiring.advance(61_000);
    expect(await refusal(expiring.tokens.verify(token, sandboxID))).toBe("unauthorized");

    const revoked = await setup();
    const second = await revoked.tokens.issue(revoked.principal, sandboxID);
    await revoked.store.tokens.revoke(revoked.tokenID, new Date(t0).toISOString());
    expect(await refusal(revoked.tokens.verify(second, sandboxID))).toBe("unauthorized");

    const removed = await setup();
    const third = await removed.tokens.issue(removed.principal, sandboxID);
    await removed.store.users.remove(userID, new Date(t0).toISOString());
    expect(await refusal(removed.tokens.verify(third, sandboxID))).toBe("unauthorized");
  });
});
