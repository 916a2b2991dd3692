import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

let server: TestServer;
let token: string;
const temp = makeTempDirectory("ciab-path-");

beforeAll(async () => {
  server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local", CIAB_RUNTIME_BACKEND: "local" } });
  token = (await server.api("POST", "/workspaces", { name: "team-path", role: "member" })).body.token;
});

afterAll(async () => {
  await server?.close();
  temp.remove();
});

/** Writes an executable into a sandbox's /workspace/bin through the API, as a tenant would. */
async function plant(sandboxID: string, name: string, script: string): Promise<void> {
  const response = await fetch(`${server.url}/api/v1/sandboxes/${sandboxID}/files/upload?path=/workspace/bin/${name}&mode=755`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}` },
    body: script,
  });
  expect(response.status).toBe(200);
}

test("a sandbox's PATH never chooses the programs that set up a jail", async () => {
  const first = await server.api("POST", "/sandboxes", { runtime: "local" }, { token });
  expect(first.status).toBe(201);
  const marker = path.join(temp.path, "host-code-ran");
  // Each stand-in notes its uid, then runs the real program so the jail still comes up.
  for (const name of ["bwrap", "setpriv"]) {
    await plant(first.body.id, name, `#!/bin/sh\nid -u >> "$ATTACK_MARKER" 2>/dev/null\nexec /usr/bin/${name} "$@"\n`);
  }
  const hostBin = path.join(server.dataDirectory, "sandboxes", first.body.id, "workspace", "bin");
  expect(existsSync(path.join(hostBin, "bwrap"))).toBe(true);

  for (const searchPath of [`${hostBin}:/usr/bin:/bin`, "/workspace/bin:/usr/bin:/bin"]) {
    const second = await server.api("POST", "/sandboxes", { runtime: "local", env: { PATH: searchPath, ATTACK_MARKER: marker } }, { token });
    expect([201, 422]).toContain(second.status);
    if (second.status === 201) {
      const shown = await server.api("POST", `/sandboxes/${second.body.id}/exec`, { command: ["sh", "-c", 'printf %s "$PATH"'] }, { token });
      expect(shown.body.stdout.endsWith(searchPath)).toBe(true);
    }
  }
  expect(existsSync(marker) ? readFileSync(marker, "utf8") : "").toBe("");
});
