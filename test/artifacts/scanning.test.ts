import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { startClamd, type RunningClamd } from "./clamd/start-clamd.js";

// The EICAR test file, assembled here so the repository itself holds no copy for scanners to flag.
const eicar = ["X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS", "-TEST-FILE!$H+H*"].join("");
const mib = 1024 * 1024;

/** Uploads scanned by a real clamd over INSTREAM while they stream into the store. */
describe("artifact scanning with clamd", () => {
  let clamd: RunningClamd;
  let server: TestServer;
  let sandboxID: string;

  async function publish(path: string) {
    return server.api("POST", "/artifacts", { sandbox_id: sandboxID, path });
  }

  beforeAll(async () => {
    clamd = await startClamd();
    server = await startTestServer({ env: { CIAB_ARTIFACT_SCAN: "true", CIAB_ARTIFACTS_CLAMD_SOCKET: clamd.socketPath } });
    sandboxID = (await server.api("POST", "/sandboxes", { runtime: "local" })).body.id;
    for (const [path, content] of [
      ["clean.txt", "nothing to see"],
      ["eicar.com", eicar],
    ]) {
      expect((await server.api("POST", `/sandboxes/${sandboxID}/files/write`, { path, content })).status).toBe(200);
    }
    // The signature 30 MiB in: clamd sees it only if every chunk reached it.
    const tail = await server.api("POST", `/sandboxes/${sandboxID}/exec`, {
      command: ["sh", "-c", `head -c ${30 * mib} /dev/urandom > late.bin && cat eicar.com >> late.bin`],
    });
    expect(tail.body.exit_code).toBe(0);
  });
  afterAll(async () => {
    await server?.close();
    await clamd?.stop();
  });

  test("a clean file is recorded clean and downloads", async () => {
    const answer = await publish("clean.txt");
    expect(answer.status).toBe(201);
    expect(answer.body.scan).toEqual({ status: "clean" });
    expect(await (await fetch(answer.body.download_url)).text()).toBe("nothing to see");
  });

  test("an infected file is quarantined with clamd's signature name; its download is refused", async () => {
    for (const path of ["eicar.com", "late.bin"]) {
      const answer = await publish(path);
      expect(answer.status).toBe(201);
      expect(answer.body.scan.status).toBe("infected");
      expect(answer.body.scan.signature).toMatch(/^Ciab-Test\.EICAR-(Hash|Pattern)(\.UNOFFICIAL)?$/);
      const download = await fetch(answer.body.download_url);
      expect(download.status).toBe(403);
      expect(((await download.json()) as { error: { code: string } }).error.code).toBe("artifact_infected");
    }
  });

  test("clamd down: the publish fails closed and records nothing", async () => {
    const before = (await server.api("GET", "/artifacts")).body.artifacts.length;
    await clamd.stop();
    const answer = await publish("clean.txt");
    expect([answer.status, answer.body.error?.code]).toEqual([503, "scanner_unavailable"]);
    expect((await server.api("GET", "/artifacts")).body.artifacts.length).toBe(before);
  });
});
