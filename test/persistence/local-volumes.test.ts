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

    // The member of the same workspace: forbidden to mount, see or delete it; their own list is empty.
    const theirs = await server.api("POST", "/sandboxes", { runtime: "local", persistence: "persistent-volume", volume: volumeID }, { token: memberToken });
    expect(theirs.status).toBe(403);
    expect(theirs.body.error.code).toBe("forbidden");
    const viaSession = await server.api("POST", "/sessions", { provider: "shell", prompt: "true", runtime: "local", persistence: "persistent-volume", volume: volumeID }, { token: memberToken });
    expect(viaSession.status).toBe(403);
    expect((await server.api("GET", `/volumes/${volumeID}`, undefined, { token: memberToken })).status).toBe(403);
    expect((await server.api("DELETE", `/volumes/${volumeID}`, undefined, { token: memberToken })).status).toBe(403);
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
      { runtime: "local", persistence: "persistent-volume", restore: "snap_0000000000000000000000000a" },
    ]) {
      const answer = await server.api("POST", "/sandboxes", request, owner);
      expect(answer.status, JSON.stringify(request)).toBe(400);
      expect(answer.body.error.code).toBe("invalid_request");
    }
    expect((await server.api("GET", "/volumes/vol_nope", undefined, owner)).status).toBe(400);
    // The workspace's admin may see and delete it (never mount it).
    expect((await server.api("GET", "/volumes", undefined, owner)).body.volumes).toHaveLength(1);
    expect((await server.api("DELETE", `/volumes/${volumeID}`, undefined, owner)).status).toBe(200);
  }, 120_000);

  test("sessions that opt in see what the user's earlier sessions left", async () => {
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
      // Its sandbox goes, and frees the volume for the next one.
      let sandbox = (await server.api("GET", `/sandboxes/${session.sandbox_id}`)).body;
      while (sandbox.state !== "terminated" && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        sandbox = (await server.api("GET", `/sandboxes/${session.sandbox_id}`)).body;
      }
      expect(sandbox.state).toBe("terminated");
    }
    expect(outputs[0]).toContain("1");
    expect(outputs[1]).toContain("2");
    const volumes = (await server.api("GET", "/volumes")).body.volumes;
    expect(volumes).toHaveLength(1);
    await server.api("DELETE", `/volumes/${volumes[0].id}`);
  }, 120_000);
});
