import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

const preload = `
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
__attribute__((constructor)) static void run(void) {
  const char *marker = getenv("ATTACK_MARKER");
  FILE *file = marker ? fopen(marker, "a") : NULL;
  if (file) { fprintf(file, "%d\\n", (int)getuid()); fclose(file); }
}
`;

let server: TestServer;
let token: string;
const temp = makeTempDirectory("ciab-preload-");

beforeAll(async () => {
  server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local", CIAB_RUNTIME_BACKEND: "local" } });
  token = (await server.api("POST", "/workspaces", { name: "team-preload", role: "member" })).body.token;
});

afterAll(async () => {
  await server?.close();
  temp.remove();
});

test("a sandbox's env never reaches the host's dynamic loader when the jail is set up", async () => {
  const source = path.join(temp.path, "preload.c");
  const library = path.join(temp.path, "preload.so");
  writeFileSync(source, preload);
  execFileSync("cc", ["-shared", "-fPIC", "-o", library, source]);

  // The tenant's first sandbox holds the library; its workspace's host path is what the second one preloads.
  const first = await server.api("POST", "/sandboxes", { runtime: "local" }, { token });
  expect(first.status).toBe(201);
  const upload = await fetch(`${server.url}/api/v1/sandboxes/${first.body.id}/files/upload?path=/workspace/p.so`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}` },
    body: readFileSync(library),
  });
  expect(upload.status).toBe(200);
  const hostLibrary = path.join(server.dataDirectory, "sandboxes", first.body.id, "workspace", "p.so");
  expect(existsSync(hostLibrary)).toBe(true);

  const marker = path.join(temp.path, "host-code-ran");
  for (const name of ["LD_PRELOAD", "LD_AUDIT", "LD_LIBRARY_PATH", "GLIBC_TUNABLES"]) {
    const value = name === "LD_LIBRARY_PATH" ? path.dirname(hostLibrary) : name === "GLIBC_TUNABLES" ? "glibc.malloc.check=3" : hostLibrary;
    const second = await server.api("POST", "/sandboxes", { runtime: "local", env: { [name]: value, ATTACK_MARKER: marker } }, { token });
    expect(second.status, name).toBe(422);
    expect(second.body.error.code).toBe("capability_unsupported");
  }
  expect(existsSync(marker) ? readFileSync(marker, "utf8") : "").toBe("");
  const ordinary = await server.api("POST", "/sandboxes", { runtime: "local", env: { PRELOAD: "x", TMPDIR: "/tmp" } }, { token });
  expect(ordinary.status).toBe(201);
});
