import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { startModelServer } from "../harness/model-server/model-server.js";

const stdoutOf = (events: SessionEvent[]) =>
  events
    .filter((event) => event.type === "shell.output" && event.data.stream === "stdout")
    .map((event) => Buffer.from(String(event.data.data), "base64").toString())
    .join("");

describe("sessions when things go wrong", () => {
  let model: Awaited<ReturnType<typeof startModelServer>>;
  let server: TestServer;
  let ciab: Ciab;
  const emptyTools = makeTempDirectory("ciab-no-tools-");
  beforeAll(async () => {
    model = await startModelServer();
    server = await startTestServer({ env: { CIAB_GATEWAY_ANTHROPIC_BASE_URL: model.url } });
    ciab = new Ciab({ url: server.url, token: server.token });
  });
  afterAll(async () => {
    await server?.close();
    await model?.close();
    emptyTools.remove();
  });

  async function untilOutput(sessionID: string, pattern: RegExp): Promise<string> {
    let text = "";
    for await (const event of ciab.sessions.follow(sessionID)) {
      if (event.type === "shell.output") text += Buffer.from(String(event.data.data), "base64").toString();
      if (pattern.test(text)) return text;
    }
    return text;
  }

  test("an agent killed mid-run fails the session with its signal", async () => {
    const session = await ciab.sessions.create({ provider: "shell", runtime: "local", prompt: "echo started; kill -9 $$" });
    for await (const _ of ciab.sessions.follow(session.id)) {
      // to the end
    }
    const done = await ciab.sessions.get(session.id);
    expect(done.state).toBe("failed");
    expect(done.failure?.message).toMatch(/SIGKILL|code 137/);
  });

  test("the gateway refuses another session's token, and serves the session's own", async () => {
    const holder = await ciab.sessions.create({ provider: "shell", runtime: "local", prompt: 'echo "token=$CIAB_GATEWAY_TOKEN"; sleep 600' });
    const printed = await untilOutput(holder.id, /token=\S+\n/);
    const stolen = /token=(\S+)/.exec(printed)![1]!;
    const call = (token: string) =>
      `curl -s -o /dev/null -w '%{http_code}\\n' -H 'content-type: application/json' -H "x-api-key: ${token}" ` +
      `"$CIAB_GATEWAY_ANTHROPIC_URL/v1/messages" -d '{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}'`;
    const thief = await ciab.sessions.create({
      provider: "shell",
      runtime: "local",
      network: "none",
      prompt: `${call(stolen)}; ${call("$CIAB_GATEWAY_TOKEN")}; ${call("made-up")}`,
    });
    const events: SessionEvent[] = [];
    for await (const event of ciab.sessions.follow(thief.id)) events.push(event);
    expect(stdoutOf(events).trim().split("\n")).toEqual(["401", "200", "401"]);
    await ciab.sessions.cancel(holder.id);
  });

  test("an agent that cannot be installed fails the session with the installer's reason", async () => {
    const isolated = await startTestServer({ env: { CIAB_RUNTIME_TOOLS_DIR: emptyTools.path } });
    const previous = { registry: process.env.npm_config_registry, retries: process.env.npm_config_fetch_retries };
    // A registry on a closed loopback port: the install fails at once, and nothing leaves the machine.
    process.env.npm_config_registry = "http://127.0.0.1:9/";
    process.env.npm_config_fetch_retries = "0";
    try {
      const client = new Ciab({ url: isolated.url, token: isolated.token });
      await client.secrets.set("ANTHROPIC_API_KEY", "real-key");
      const session = await client.sessions.create({ provider: "claude-code", runtime: "local", prompt: "hi" });
      for await (const _ of client.sessions.follow(session.id)) {
        // to the end
      }
      const done = await client.sessions.get(session.id);
      expect(done.state).toBe("failed");
      expect(done.failure?.message).toMatch(/claude-code|npm/i);
    } finally {
      for (const [key, value] of [["npm_config_registry", previous.registry], ["npm_config_fetch_retries", previous.retries]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      await isolated.close();
    }
  }, 120_000);

  test("an interactive session idles, takes a terminal, and survives a detach", async () => {
    const session = await ciab.sessions.create({ provider: "shell", runtime: "local" });
    let info = await ciab.sessions.get(session.id);
    for (let attempt = 0; attempt < 100 && info.state !== "idle"; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      info = await ciab.sessions.get(session.id);
    }
    expect(info).toMatchObject({ state: "idle", mode: "interactive" });

    const first = await ciab.sessions.attach(session.id, { cols: 100, rows: 30 });
    first.write("echo marker-$((40+2))\n");
    let seen = "";
    for await (const chunk of first.output) {
      seen += chunk.toString();
      if (seen.includes("marker-42")) break;
    }
    await first.close();
    expect((await ciab.sessions.get(session.id)).state).toBe("idle");

    const second = await ciab.sessions.attach(session.id);
    second.write("exit 0\n");
    const exit = await second.exited;
    expect(exit.exit_code).toBe(0);
    for await (const _ of ciab.sessions.follow(session.id)) {
      // to the end
    }
    expect((await ciab.sessions.get(session.id)).state).toBe("completed");
  });
});
