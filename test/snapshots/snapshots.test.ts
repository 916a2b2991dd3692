import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

const mib = 1024 * 1024;
/** Every entry of /workspace with its type, mode, size and link target, sorted: what a restore must keep. */
const inventory = "find . -mindepth 1 -printf '%p %y %m %s %l\\n' | sort; sha256sum big.bin";

describe("snapshots of /workspace on the local runtime", () => {
  let server: TestServer;
  let sourceID: string;

  async function run(sandboxID: string, script: string): Promise<string> {
    const answer = await server.api("POST", `/sandboxes/${sandboxID}/exec`, { command: ["sh", "-c", script] });
    expect(answer.body.exit_code, answer.body.stderr).toBe(0);
    return answer.body.stdout as string;
  }

  beforeAll(async () => {
    server = await startTestServer();
    sourceID = (await server.api("POST", "/sandboxes", { runtime: "local" })).body.id;
    await run(
      sourceID,
      [
        "mkdir -p src/deep/er empty-dir && chmod 700 empty-dir",
        "printf '#!/bin/sh\\necho run\\n' > src/run.sh && chmod 755 src/run.sh",
        "printf secret > src/secret && chmod 600 src/secret",
        "ln -s run.sh src/link-in && ln -s /etc/passwd link-out && ln -s ../../.. src/deep/er/up",
        `head -c ${24 * mib} /dev/urandom > big.bin`,
      ].join(" && "),
    );
  });
  afterAll(async () => server?.close());

  test("restore keeps modes, links (never followed), empty dirs and large files", async () => {
    const created = await server.api("POST", `/sandboxes/${sourceID}/snapshot`, { label: "wip" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ label: "wip", sandbox_id: sourceID, session_id: null });
    expect(created.body.id).toMatch(/^snap_/);
    expect(created.body.size).toBeGreaterThan(24 * mib);

    const restored = await server.api("POST", "/sandboxes", { runtime: "local", restore: created.body.id });
    expect(restored.status, JSON.stringify(restored.body)).toBe(201);
    expect(await run(restored.body.id, inventory)).toBe(await run(sourceID, inventory));
    expect(await run(restored.body.id, "readlink link-out; cat link-out | head -c 0; ./src/run.sh")).toBe("/etc/passwd\nrun\n");

    const tarball = Buffer.from(await (await fetch(created.body.download_url)).arrayBuffer());
    expect([tarball.length, tarball[0], tarball[1]]).toEqual([created.body.size, 0x1f, 0x8b]);

    const listed = await server.api("GET", `/snapshots?sandbox_id=${sourceID}`);
    expect(listed.body.snapshots.map((item: { id: string }) => item.id)).toEqual([created.body.id]);
  });

  test("a session snapshots its sandbox, and a new session starts from it", async () => {
    const ciab = new Ciab({ url: server.url, token: server.token });
    const live = await ciab.sessions.create({ runtime: "local", provider: "shell", prompt: "echo from-session > made.txt; sleep 600" });
    let session = await ciab.sessions.get(live.id);
    for (let attempt = 0; attempt < 100 && session.state !== "running"; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      session = await ciab.sessions.get(live.id);
    }
    await run(session.sandbox_id!, "for i in $(seq 1 50); do [ -s made.txt ] && exit 0; sleep 0.1; done; exit 1");
    const snapshot = await server.api("POST", `/sessions/${live.id}/snapshot`, { label: "from a session" });
    expect(snapshot.status).toBe(201);
    expect(snapshot.body.session_id).toBe(live.id);
    await ciab.sessions.cancel(live.id);

    const next = await ciab.sessions.create({ runtime: "local", provider: "shell", prompt: "cat made.txt", restore: snapshot.body.id });
    const events: SessionEvent[] = [];
    for await (const event of ciab.sessions.follow(next.id)) events.push(event);
    const stdout = events
      .filter((event) => event.type === "shell.output" && event.data.stream === "stdout")
      .map((event) => Buffer.from(String(event.data.data), "base64").toString())
      .join("");
    expect(stdout).toBe("from-session\n");
    expect((await ciab.sessions.get(next.id)).state).toBe("completed");
  });

  test("bad ids: unknown, malformed and another workspace's snapshots answer typed errors", async () => {
    const snapshot = (await server.api("POST", `/sandboxes/${sourceID}/snapshot`, {})).body;
    const other = (await server.api("POST", "/workspaces", { name: "other" })).body.token as string;
    for (const [method, route, body] of [
      ["GET", `/snapshots/${snapshot.id}`, undefined],
      ["DELETE", `/snapshots/${snapshot.id}`, undefined],
      ["POST", "/sandboxes", { runtime: "local", restore: snapshot.id }],
      ["POST", "/sessions", { provider: "shell", prompt: "true", restore: snapshot.id }],
      ["POST", `/sandboxes/${sourceID}/snapshot`, {}],
    ] as const) {
      const answer = await server.api(method, route, body, { token: other });
      expect([route, answer.status]).toEqual([route, 404]);
    }
    expect((await server.api("GET", "/snapshots", undefined, { token: other })).body.snapshots).toEqual([]);
    const malformed = await server.api("POST", "/sandboxes", { runtime: "local", restore: "snap_nope" });
    expect(malformed.body.error.code).toBe("invalid_request");
    expect((await server.api("DELETE", `/snapshots/${snapshot.id}`)).status).toBe(200);
    const gone = await server.api("POST", "/sandboxes", { runtime: "local", restore: snapshot.id });
    expect([gone.status, gone.body.error.code]).toEqual([404, "not_found"]);
  });
});

describe("a restore into a sandbox whose disk is too small", () => {
  let server: TestServer;

  beforeAll(async () => {
    // Local jails get a 16 MiB /workspace; docker sandboxes have no quota, so one holds the bigger snapshot.
    server = await startTestServer({ env: { CIAB_RUNTIME_LOCAL_WORKSPACE_SIZE_MB: "16" } });
  });
  afterAll(async () => {
    await server?.close();
  });

  test("fails with insufficient_storage and leaves no sandbox running", async () => {
    const source = (await server.api("POST", "/sandboxes", { runtime: "docker" })).body.id;
    const filled = await server.api("POST", `/sandboxes/${source}/exec`, { command: ["sh", "-c", `head -c ${26 * mib} /dev/urandom > big.bin`] });
    expect(filled.body.exit_code).toBe(0);
    const snapshot = await server.api("POST", `/sandboxes/${source}/snapshot`, {});
    expect(snapshot.status).toBe(201);
    const restored = await server.api("POST", "/sandboxes", { runtime: "local", restore: snapshot.body.id });
    expect([restored.status, restored.body.error?.code], JSON.stringify(restored.body)).toEqual([507, "insufficient_storage"]);
    const sandboxes = (await server.api("GET", "/sandboxes?all=true")).body.sandboxes;
    const failed = sandboxes.find((sandbox: { id: string }) => sandbox.id === restored.body.error.context.sandbox_id);
    expect(failed).toMatchObject({ state: "failed", failure: { reason: "insufficient_storage" } });
  });
});
