import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

const inventory = "find . -mindepth 1 -printf '%p %y %m %s %l\\n' | sort";

/** The same archive routes in a container: tar of the image, as the container's user. */
describe("snapshots on the docker runtime", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  async function run(sandboxID: string, script: string): Promise<string> {
    const answer = await server.api("POST", `/sandboxes/${sandboxID}/exec`, { command: ["sh", "-c", script] });
    expect(answer.body.exit_code, answer.body.stderr).toBe(0);
    return answer.body.stdout as string;
  }

  test("a docker sandbox's work dir restores into a new docker sandbox, and into a local one", async () => {
    const source = (await server.api("POST", "/sandboxes", { runtime: "docker" })).body.id;
    await run(source, "mkdir -p a/empty && printf x > a/file && chmod 640 a/file && ln -s file a/link && ln -s / a/root");
    const snapshot = await server.api("POST", `/sandboxes/${source}/snapshot`, { label: "docker" });
    expect(snapshot.status, JSON.stringify(snapshot.body)).toBe(201);
    const expected = await run(source, inventory);
    for (const runtime of ["docker", "local"]) {
      const restored = await server.api("POST", "/sandboxes", { runtime, restore: snapshot.body.id });
      expect(restored.status, JSON.stringify(restored.body)).toBe(201);
      expect(await run(restored.body.id, inventory)).toBe(expected);
    }
  });
});
