import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startMoto, type Moto } from "../harness/aws/moto.js";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

const cli = path.resolve(import.meta.dirname, "../../packages/cli/bin/ciab.mjs");
const aws = { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" };

/** The control plane on the DynamoDB store (moto), end to end: table made by the CLI, sandbox, exec, a session's events. */
describe("the server on DynamoDB", () => {
  let moto: Moto;
  let server: TestServer;
  let ciab: Ciab;
  const table = `ciab-e2e-${randomUUID()}`;
  const home = makeTempDirectory("ciab-dynamo-cli-");
  let storeEnv: Record<string, string>;

  beforeAll(async () => {
    Object.assign(process.env, aws);
    moto = await startMoto({ serial: true });
    storeEnv = { CIAB_STORE_DRIVER: "dynamodb", CIAB_STORE_TABLE: table, CIAB_STORE_ENDPOINT: moto.endpoint, CIAB_STORE_REGION: "us-east-1" };
  });
  afterAll(async () => {
    await server?.close();
    await moto?.stop();
    home.remove();
  });

  const storeInit = () =>
    spawnSync(process.execPath, [cli, "store", "init", "--json"], {
      env: { ...process.env, ...aws, ...storeEnv, CIAB_DATA_DIR: home.path },
      cwd: home.path,
      encoding: "utf8",
      timeout: 60_000,
    });

  test("`ciab store init` creates the table once; a server with create_table off then runs on it", async () => {
    await expect(startTestServer({ env: { ...storeEnv, CIAB_STORE_CREATE_TABLE: "false" } })).rejects.toThrow(table);
    const first = storeInit();
    expect(first.status, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ driver: "dynamodb", location: table, created: true });
    expect(JSON.parse(storeInit().stdout)).toMatchObject({ created: false });

    server = await startTestServer({ env: { ...storeEnv, CIAB_STORE_CREATE_TABLE: "false", CIAB_POLICY_OUTBOUND_ALLOW: "127.0.0.1" } });
    ciab = new Ciab({ url: server.url, token: server.token });
    expect((await server.api("GET", "/sandboxes")).status).toBe(200);
  });

  test("a local sandbox is created, listed and runs a command; a shell session's events are stored and read back", async () => {
    const sandbox = await ciab.sandboxes.create({ runtime: "local" });
    expect((await server.api("GET", "/sandboxes")).body.sandboxes.map((listed: { id: string }) => listed.id)).toContain(sandbox.id);
    const run = await sandbox.commands.run(["sh", "-c", "echo from-dynamo"]);
    expect(run.stdout).toBe("from-dynamo\n");

    const session = await ciab.sessions.create({ runtime: "local", provider: "shell", prompt: "echo hello; exit 0" });
    const followed: SessionEvent[] = [];
    for await (const event of ciab.sessions.follow(session.id)) followed.push(event);
    expect((await ciab.sessions.get(session.id)).state).toBe("completed");
    expect(followed.map((event) => event.seq)).toEqual(followed.map((_, index) => index + 1));
    const stdout = followed
      .filter((event) => event.type === "shell.output" && event.data.stream === "stdout")
      .map((event) => Buffer.from(String(event.data.data), "base64").toString())
      .join("");
    expect(stdout).toBe("hello\n");

    const stored = await server.api("GET", `/sessions/${session.id}/events`);
    expect(stored.status).toBe(200);
    expect(JSON.stringify(stored.body)).toContain(followed.at(-1)!.type);
    await sandbox.delete();
  });
});
