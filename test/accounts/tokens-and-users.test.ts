import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/** Tokens, users and workspaces through the API and the SDK, against one in-process server. */
describe("tokens, users and workspaces", () => {
  let server: TestServer;
  let admin: Ciab;
  let workspaceID: string;

  beforeAll(async () => {
    server = await startTestServer();
    admin = new Ciab({ url: server.url, token: server.token });
    workspaceID = (await admin.workspaces.whoami()).workspace_id;
  });
  afterAll(async () => {
    await server?.close();
  });

  test("a token is shown once, listed with role, expiry and last use, and stops working once revoked", async () => {
    const created = await admin.tokens.create({ name: "ci", role: "member", expires_in_secs: 3600 });
    expect(created.token).toMatch(/^ciab_/);
    expect(created).toMatchObject({ name: "ci", role: "member", last_used_at: null, revoked_at: null });
    expect(Date.parse(created.expires_at!) - Date.now()).toBeGreaterThan(3500_000);

    const ci = new Ciab({ url: server.url, token: created.token });
    const who = await ci.workspaces.whoami();
    expect(who).toMatchObject({ role: "member", installation_admin: false, token_id: created.id });
    // A member token of an admin acts as a member: no admin token, no workspace creation.
    await expect(ci.tokens.create({ name: "wider", role: "admin" })).rejects.toMatchObject({ code: "forbidden" });
    await expect(ci.workspaces.create({ name: "nope" })).rejects.toMatchObject({ code: "forbidden" });

    const listed = (await admin.tokens.list()).find((token) => token.id === created.id)!;
    expect(listed).not.toHaveProperty("token");
    expect(listed.last_used_at).not.toBeNull();
    expect(JSON.stringify(await admin.tokens.list())).not.toContain(created.token);

    await admin.tokens.revoke(created.id);
    // At once, although the token was verified (and cached) a moment ago.
    await expect(ci.sandboxes.list()).rejects.toMatchObject({ code: "unauthorized" });
    expect((await admin.tokens.list()).map((token) => token.id)).not.toContain(created.id);
    await expect(admin.tokens.revoke(created.id)).rejects.toMatchObject({ code: "not_found" });
  });

  test("an expired token is refused, and the stream it opened ends when it expires", async () => {
    const created = await admin.tokens.create({ name: "short", expires_in_secs: 2 });
    const short = new Ciab({ url: server.url, token: created.token });
    const sandbox = await short.sandboxes.create({ runtime: "local" });
    const stream = sandbox.commands.stream(["sleep", "30"]);
    expect((await stream.next()).value).toMatchObject({ type: "exec.start" });
    const ended = (async () => {
      for await (const _ of { [Symbol.asyncIterator]: () => stream }) {
        // until the server ends it
      }
    })().catch(() => undefined);
    await Promise.race([ended, new Promise((_, reject) => setTimeout(() => reject(new Error("the stream outlived its token")), 10_000))]);
    expect(Date.parse(created.expires_at!)).toBeLessThanOrEqual(Date.now() + 100);
    await expect(short.sandboxes.list()).rejects.toMatchObject({ code: "unauthorized" });
    await admin.sandboxes.delete(sandbox.id);
  });

  test("revoking a token closes its open SSE stream and attach socket", async () => {
    const created = await admin.tokens.create({ name: "streams" });
    const client = new Ciab({ url: server.url, token: created.token });
    const sandbox = await client.sandboxes.create({ runtime: "local" });
    const stream = sandbox.commands.stream(["sleep", "30"]);
    const first = await stream.next();
    expect(first.value).toMatchObject({ type: "exec.start" });
    const process = await sandbox.processes.start(["sleep", "30"], { pty: { cols: 80, rows: 24 } });
    const attachment = await sandbox.processes.attach(process.pid);
    const socketClosed = new Promise<void>((resolve) => attachment.once("close", () => resolve()));

    const started = Date.now();
    await admin.tokens.revoke(created.id);
    const rest: unknown[] = [];
    await Promise.race([
      (async () => {
        for await (const event of { [Symbol.asyncIterator]: () => stream }) rest.push(event);
      })().catch(() => undefined),
      new Promise((_, reject) => setTimeout(() => reject(new Error("the SSE stream stayed open")), 10_000)),
    ]);
    await Promise.race([socketClosed, new Promise((_, reject) => setTimeout(() => reject(new Error("the socket stayed open")), 10_000))]);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(rest.some((event) => (event as { type: string }).type === "exec.exit")).toBe(false);
    await admin.sandboxes.delete(sandbox.id);
  });

  test("users: add, list, set role, remove; a removed user's tokens stop at once; the last admin stays", async () => {
    const added = await admin.workspaces.addUser(workspaceID, { name: "bob" });
    expect(added.user.role).toBe("member");
    const bob = new Ciab({ url: server.url, token: added.token });
    expect((await admin.workspaces.listUsers(workspaceID)).map((user) => user.name)).toEqual(expect.arrayContaining(["admin", "bob"]));
    // Members may look, not change.
    expect((await bob.workspaces.listUsers(workspaceID)).length).toBeGreaterThanOrEqual(2);
    await expect(bob.workspaces.setUserRole(workspaceID, added.user.id, "admin")).rejects.toMatchObject({ code: "forbidden" });

    expect((await admin.workspaces.setUserRole(workspaceID, added.user.id, "admin")).role).toBe("admin");
    expect((await bob.workspaces.whoami()).role).toBe("admin");
    const me = await admin.workspaces.whoami();
    // A workspace admin cannot touch the installation admin.
    await expect(bob.workspaces.removeUser(workspaceID, me.user_id)).rejects.toMatchObject({ code: "forbidden" });
    await admin.workspaces.setUserRole(workspaceID, added.user.id, "member");

    await admin.workspaces.removeUser(workspaceID, added.user.id);
    await expect(bob.sandboxes.list()).rejects.toMatchObject({ code: "unauthorized" });
    expect((await admin.workspaces.listUsers(workspaceID)).map((user) => user.name)).not.toContain("bob");
    await expect(admin.workspaces.setUserRole(workspaceID, me.user_id, "member")).rejects.toMatchObject({ code: "conflict" });
  });

  test("workspaces: names are unique; installation admins list all, others their own; other workspaces are not found", async () => {
    const team = await admin.workspaces.create({ name: "team-a", user_name: "alice", role: "admin" });
    await expect(admin.workspaces.create({ name: "team-a" })).rejects.toMatchObject({ code: "already_exists", status: 409 });
    await expect(admin.workspaces.create({ name: "default" })).rejects.toMatchObject({ status: 409 });
    const names = (await admin.workspaces.list()).map((workspace) => workspace.name);
    expect(names).toEqual(expect.arrayContaining(["default", "team-a"]));

    const alice = new Ciab({ url: server.url, token: team.token });
    expect((await alice.workspaces.list()).map((workspace) => workspace.name)).toEqual(["team-a"]);
    await expect(alice.workspaces.listUsers(workspaceID)).rejects.toMatchObject({ code: "not_found" });
    const adminToken = (await admin.tokens.list())[0]!;
    await expect(alice.tokens.revoke(adminToken.id)).rejects.toMatchObject({ code: "not_found" });
    // Unknown query parameters are refused.
    expect((await server.api("GET", "/workspaces?bogus=1")).status).toBe(400);
  });

  test("a session without the provider's key fails at once with provider_key_missing", async () => {
    const { status, body } = await server.api("POST", "/sessions", { provider: "codex", prompt: "hi", runtime: "local" });
    expect(status).toBe(422);
    expect(body.error).toMatchObject({ code: "provider_key_missing", context: { secret: "OPENAI_API_KEY" } });
    expect(body.error.message).toContain("ciab secret set OPENAI_API_KEY");
    expect((await server.api("GET", "/sessions")).body.sessions).toEqual([]);
  });
});
