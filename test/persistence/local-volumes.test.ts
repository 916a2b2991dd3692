import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/** Persistent volumes on the local runtime: a loop-mounted ext4 image per user volume, the jail's quota kept. */
describe("persistent volumes on the local runtime", () => {
  let server: TestServer;
  let ownerToken: string;
  let memberToken: string;
  let otherWorkspaceToken: string;

  async function run(sandboxID: string, script: string, token?: string): Promise<{ exit_code: number; stdout: string; stderr: string }> {
    const answer = await server.api("POST", `/sandboxes/${sandboxID}/exec`, { command: ["sh", "-c", script] }, token === undefined ? {} : { token });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body;
  }

  beforeAll(async () => {
    server = await startTestServer({ env: { CIAB_RUNTIME_LOCAL_WORKSPACE_SIZE_MB: "48" } });
    const me = await server.api("POST", "/workspaces", { name: "vol-team", role: "admin" });
    const other = await server.api("POST", "/workspaces", { name: "vol-other", role: "admin" });
    otherWorkspaceToken = other.body.token;
    ownerToken = me.body.token;
    // A member beside the workspace admin in the same workspace.
    const member = await server.api("POST", `/workspaces/${me.body.workspace.id}/users`, { name: "bob", role: "member" }, { token: me.body.token });
    expect(member.status, JSON.stringify(member.body)).toBe(201);
    memberToken = member.body.token;
  }, 60_000);
  afterAll(async () => server?.close());

  test("a user's volume is made on first use, keeps its files across sandboxes, is mounted once, and holds the quota", async () => {
    const first = await server.api("POST", "/sandboxes", { runtime: "local", persistence: "persistent-volume" });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({ persistence: "persistent-volume", volume_id: expect.stringMatching(/^vol_/) });
    const volumeID = first.body.volume_id as string;
    await run(first.body.id, "mkdir -p src && printf kept > src/file && ln -s /etc/shadow src/link && chmod 640 src/file");

    const twice = await server.api("POST", "/sandboxes", { runtime: "local", persistence: "persistent-volume" });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe("volume_in_use");
    // A session asking for it is answered at once, before anything is recorded.
    const session = await server.api("POST", "/sessions", { provider: "shell", prompt: "true", runtime: "local", persistence: "persistent-volume" });
    expect([session.status, session.body.error?.code]).toEqual([409, "volume_in_use"]);
    expect((await server.api("GET", "/sessions")).body.sessions).toEqual([]);
    const busy = await server.api("DELETE", `/volumes/${volumeID}`);
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe("volume_in_use");
    expect((await server.api("GET", `/volumes/${volumeID}`)).body).toMatchObject({ state: "in_use", sandbox_id: first.body.id, runtime: "local" });

    // The quota of a jail's workspace holds in its volume: 48 MiB.
    const full = await run(first.body.id, "head -c 64M /dev/zero > big 2>/dev/null; echo $?; rm -f big");
    expect(full.stdout.trim()).not.toBe("0");

    await server.api("DELETE", `/sandboxes/${first.body.id}`);
    expect((await server.api("GET", `/volumes/${volumeID}`)).body).toMatchObject({ state: "available", sandbox_id: null });

    const second = await server.api("POST", "/sandboxes", { runtime: "local", persistence: "persistent-volume", volume: volumeID });
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    expect(second.body.volume_id).toBe(volumeID);
    // The new jail has another uid: the files were given to it, the link changed itself and never followed.
    const seen = await run(second.body.id, "cat src/file; echo; stat -c '%a' src/file; readlink src/link; echo more >> src/file && echo writable");
    expect(seen.stdout).toBe("kept\n640\n/etc/shadow\nwritable\n");
    expect((await server.api("GET", "/volumes")).body.volumes.map((volume: { id: string }) => volume.id)).toEqual([volumeID]);

    await server.api("DELETE", `/sandboxes/${second.body.id}`);
    // Whatever the store says, an image still attached to a loop device (a teardown not finished) is not mounted again.
    const image = path.join(server.dataDirectory, "volumes", volumeID, "volume.img");
    const loop = execFileSync("losetup", ["-f", "--show", image], { encoding: "utf8" }).trim();
    try {
      const attached = await server.api("POST", "/sandboxes", { runtime: "local", persistence: "persistent-volume" });
      expect(attached.status, JSON.stringify(attached.body)).toBe(409);
      expect(attached.body.error.code).toBe("volume_in_use");
      expect((await server.api("DELETE", `/volumes/${volumeID}`)).body.error.code).toBe("volume_in_use");
    } finally {
      execFileSync("losetup", ["-d", loop]);
    }
    const deleted = await server.api("DELETE", `/volumes/${volumeID}`);
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect(existsSync(path.join(server.dataDirectory, "volumes", volumeID))).toBe(false);
    expect((await server.api("GET", `/volumes/${volumeID}`)).status).toBe(404);
  }, 120_000);

  test("another user's volume is forbidden, another workspace's not found; bad requests are typed", async () => {
    const owner = { token: ownerToken };
    const mine = await server.api("POST", "/sandboxes", { runtime: "local", persistence: "persistent-volume" }, owner);
    expect(mine.status, JSON.stringify(mine.body)).toBe(201);
    const volumeID = mine.body.volume_id as string;
    await server.api("DELETE", `/sandboxes/${mine.body.id}`, undefined, owner);

    // The member of the same workspace: to them it is not there, whatever the route; their own list is empty.
    for (const [method, route, body] of [
      ["POST", "/sandboxes", { runtime: "local", persistence: "persistent-volume", volume: volumeID }],
      ["POST", "/sessions", { provider: "shell", prompt: "true", runtime: "local", persistence: "persistent-volume", volume: volumeID }],
      ["GET", `/volumes/${volumeID}`, undefined],
      ["DELETE", `/volumes/${volumeID}`, undefined],
    ] as const) {
      const answer = await server.api(method, route, body, { token: memberToken });
      expect([answer.status, answer.body.error?.code], `${method} ${route}`).toEqual([404, "not_found"]);
    }
    expect((await server.api("GET", "/volumes", undefined, { token: memberToken })).body).toEqual({ volumes: [] });
    // Refused before anything was made: the workspace has only the owner's sandbox.
    const sandboxes = await server.api("GET", "/sandboxes?all=true", undefined, { token: memberToken });
    expect(sandboxes.body.sandboxes.map((sandbox: { id: string }) => sandbox.id)).toEqual([mine.body.id]);

    // Another workspace: not found, whatever the route.
    for (const [method, route, body] of [
      ["GET", `/volumes/${volumeID}`, undefined],
      ["DELETE", `/volumes/${volumeID}`, undefined],
      ["POST", "/sandboxes", { runtime: "local", persistence: "persistent-volume", volume: volumeID }],
    ] as const) {
      const answer = await server.api(method, route, body, { token: otherWorkspaceToken });
      expect(answer.status, `${method} ${route}`).toBe(404);
      expect(answer.body.error.code).toBe("not_found");
    }

    for (const request of [
      { runtime: "local", persistence: "ephemeral", volume: volumeID },
      { runtime: "local", persistence: "kept" },
      { runtime: "local", persistence: "persistent-volume", volume: "vol_../../etc" },
      { runtime: "local", persistence: "persistent-volume", volume: `${volumeID}/..` },
      { runtime: "local", persistence: "persistent-volume", volume: `${volumeID}\u0000` },
      { runtime: "local", persistence: "persistent-volume", volume: `vol_${"a".repeat(100_000)}` },
      { runtime: "local", persistence: "persistent-volume", volume: volumeID.toUpperCase() },
      { runtime: "local", persistence: "persistent-volume", restore: "snap_0000000000000000000000000a" },
      { runtime: "local", persistence: "ephemeral", volume_size_gib: 10 },
      ...[0, -1, 1.5, "10", 1e9].map((size) => ({ runtime: "local", persistence: "persistent-volume", volume_size_gib: size })),
    ]) {
      for (const route of ["/sandboxes", "/sessions"]) {
        const body = route === "/sessions" ? { provider: "shell", prompt: "true", ...request } : request;
        const answer = await server.api("POST", route, body, owner);
        expect([answer.status, answer.body.error?.code], `${route} ${JSON.stringify(request).slice(0, 200)}`).toEqual([400, "invalid_request"]);
      }
    }
    // A size is the runtime's to honour: a local volume's is the jail's quota.
    const sized = await server.api("POST", "/sandboxes", { runtime: "local", persistence: "persistent-volume", volume_size_gib: 10 }, owner);
    expect([sized.status, sized.body.error?.code]).toEqual([422, "capability_unsupported"]);
    for (const id of ["vol_nope", "..%2F..%2Fetc", "vol_%00", `vol_${"a".repeat(10_000)}`, `${volumeID}%2F..`]) {
      for (const method of ["GET", "DELETE"] as const) {
        const answer = await server.api(method, `/volumes/${id}`, undefined, owner);
        expect([answer.status, answer.body.error?.code], `${method} ${id.slice(0, 40)}`).toEqual([400, "invalid_request"]);
      }
    }
    // The workspace's admin may see and delete it (never mount it).
    expect((await server.api("GET", "/volumes", undefined, owner)).body.volumes).toHaveLength(1);
    expect((await server.api("DELETE", `/volumes/${volumeID}`, undefined, owner)).status).toBe(200);
  }, 120_000);

  test("a sandbox being deleted hands its volume to the next claim, which waits for it; a live one is refused at once", async () => {
    const first = await server.api("POST", "/sandboxes", { runtime: "local", persistence: "persistent-volume" });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    await run(first.body.id, "printf handed > note");
    const started = Date.now();
    const refused = await server.api("POST", "/sandboxes", { runtime: "local", persistence: "persistent-volume" });
    expect([refused.status, refused.body.error?.code, refused.body.error?.message]).toEqual([409, "volume_in_use", expect.stringContaining(first.body.id)]);
    expect(Date.now() - started).toBeLessThan(5_000);

    const deleting = server.api("DELETE", `/sandboxes/${first.body.id}`);
    const deadline = Date.now() + 10_000;
    while ((await server.api("GET", `/sandboxes/${first.body.id}`)).body.state === "ready" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const next = await server.api("POST", "/sandboxes", { runtime: "local", persistence: "persistent-volume" });
    expect(next.status, JSON.stringify(next.body)).toBe(201);
    expect(next.body.volume_id).toBe(first.body.volume_id);
    expect((await run(next.body.id, "cat note")).stdout).toBe("handed");
    expect((await deleting).body.state).toBe("terminated");
    await server.api("DELETE", `/sandboxes/${next.body.id}`);
    expect((await server.api("DELETE", `/volumes/${first.body.volume_id}`)).status).toBe(200);
  }, 120_000);

  test("sessions that opt in see what the user's earlier sessions left, each asked for as the last one ends", async () => {
    const prompt = "echo run >> /workspace/log; wc -l < /workspace/log";
    const outputs: string[] = [];
    for (let round = 0; round < 2; round++) {
      const created = await server.api("POST", "/sessions", { provider: "shell", runtime: "local", prompt, persistence: "persistent-volume" });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body.persistence).toBe("persistent-volume");
      const deadline = Date.now() + 30_000;
      let session = created.body;
      while (!["completed", "failed", "cancelled"].includes(session.state) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        session = (await server.api("GET", `/sessions/${created.body.id}`)).body;
      }
      expect(session.state, JSON.stringify(session)).toBe("completed");
      const events = await server.api("GET", `/sessions/${created.body.id}/events`);
      outputs.push(
        (events.body.events as { type: string; data: { data?: string; text?: string } }[])
          .map((event) => (event.type === "shell.output" ? Buffer.from(event.data.data ?? "", "base64").toString() : (event.data.text ?? "")))
          .join(""),
      );
      // The next session is asked for at once: its claim waits while this one's sandbox goes.
    }
    expect(outputs[0]).toContain("1");
    expect(outputs[1]).toContain("2");
    const volumes = (await server.api("GET", "/volumes")).body.volumes;
    expect(volumes).toHaveLength(1);
    await server.api("DELETE", `/volumes/${volumes[0].id}`);
  }, 120_000);
});
