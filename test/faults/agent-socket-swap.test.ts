import path from "node:path";
import { afterAll, expect, test } from "vitest";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/**
 * A sandbox's /run/ciab is writable from inside it. A sandbox that swaps its agentd socket for a link to
 * another sandbox's must not get its owner's next connection answered by that other sandbox.
 */
let server: TestServer | undefined;
afterAll(async () => server?.close());

test("a swapped agent socket is refused, not followed into another sandbox", async () => {
  server = await startTestServer();
  let ciab = new Ciab({ url: server.url, token: server.token });
  const attacker = await ciab.sandboxes.create({ runtime: "local" });
  const victim = await ciab.sandboxes.create({ runtime: "local" });
  await victim.files.write("/workspace/secret.txt", "victim's");
  const victimSocket = path.join(server.dataDirectory, "sandboxes", victim.id, "run", "agentd.sock");
  const swap = await attacker.commands.run(["sh", "-c", `ln -s "${victimSocket}" /run/ciab/link && mv -f /run/ciab/link /run/ciab/agentd.sock`]);
  expect(swap.exit_code).toBe(0);

  // A restarted control plane opens new connections, through whatever is at the socket's path now.
  const dataDirectory = server.dataDirectory;
  await server.server.close();
  server = await startTestServer({ dataDirectory });
  ciab = new Ciab({ url: server.url, token: server.token });

  const again = await ciab.sandboxes.get(attacker.id);
  await expect(again.files.read("/workspace/secret.txt")).rejects.toMatchObject({ code: expect.stringMatching(/agent_unreachable|sandbox_failed/) });
  expect(await (await ciab.sandboxes.get(victim.id)).files.read("/workspace/secret.txt")).toBe("victim's");
});
