import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

describe("20 sandboxes, 20 execs each, all at once", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  test.each(["local", "docker"] as const)("on %s", async (runtime) => {
    const ciab = new Ciab({ url: server.url, token: server.token });
    const sandboxes = await Promise.all(Array.from({ length: 20 }, () => ciab.sandboxes.create({ runtime })));
    const results = await Promise.all(
      sandboxes.flatMap((sandbox, sandboxIndex) =>
        Array.from({ length: 20 }, (_, execIndex) =>
          sandbox.commands.run(["echo", `${sandboxIndex}-${execIndex}`]).then((result) => ({ result, sandboxIndex, execIndex })),
        ),
      ),
    );
    expect(results).toHaveLength(400);
    for (const { result, sandboxIndex, execIndex } of results) {
      expect(result.exit_code).toBe(0);
      expect(result.stdout).toBe(`${sandboxIndex}-${execIndex}\n`);
    }
    await Promise.all(sandboxes.map((sandbox) => sandbox.delete()));
  }, 180_000);
});
