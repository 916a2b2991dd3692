import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

const output = (events: SessionEvent[], stream: string) =>
  events
    .filter((event) => event.type === "shell.output" && event.data.stream === stream)
    .map((event) => Buffer.from(String(event.data.data), "base64").toString())
    .join("");

/** `ciab-artifact publish` from inside a session, in a login shell, through the session's gateway. */
describe.each(["local", "docker"] as const)("ciab-artifact inside a %s sandbox", (runtime) => {
  let server: TestServer;
  let ciab: Ciab;
  beforeAll(async () => {
    server = await startTestServer();
    ciab = new Ciab({ url: server.url, token: server.token });
  });
  afterAll(async () => server?.close());

  async function runToEnd(prompt: string) {
    const session = await ciab.sessions.create({ runtime, provider: "shell", prompt });
    const events: SessionEvent[] = [];
    for await (const event of ciab.sessions.follow(session.id)) events.push(event);
    return { session: await ciab.sessions.get(session.id), events };
  }

  test("publishes a file of the session's sandbox from a login shell", async () => {
    const { session, events } = await runToEnd(
      "mkdir -p build && echo rendered > build/out.txt && cd build && bash -lc 'ciab-artifact publish out.txt --mime text/plain --description \"from inside\"'",
    );
    expect(session.state, output(events, "stderr")).toBe("completed");
    const published = JSON.parse(output(events, "stdout"));
    expect(published).toMatchObject({ path: "/workspace/build/out.txt", size: 9, mime: "text/plain", scan: { status: "skipped" } });
    const listed = (await server.api("GET", `/artifacts?session_id=${session.id}`)).body.artifacts;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: published.id, description: "from inside", session_id: session.id, sandbox_id: session.sandbox_id });
    expect(await (await fetch(listed[0].download_url)).text()).toBe("rendered\n");
  });

  test("paths outside the work dir fail; the session token is no API token", async () => {
    const { events } = await runToEnd(
      'ciab-artifact publish /etc/passwd; echo "exit=$?"; echo "token=$CIAB_SESSION_TOKEN"',
    );
    expect(output(events, "stderr")).toContain("path_outside_sandbox");
    const stdout = output(events, "stdout");
    expect(stdout).toContain("exit=1");
    const token = /token=(\S+)/.exec(stdout)?.[1];
    expect(token).toMatch(/^ciabgw_/);
    const stolen = await server.api("GET", "/artifacts", undefined, { token: token! });
    expect(stolen.status).toBe(401);
  });

  test("the gateway route refuses malformed, oversized, unknown-field and unauthenticated bodies", async () => {
    const probe = [
      'const url = process.env.CIAB_GATEWAY_URL + "/ciab/artifacts";',
      'const post = (body, auth = true) => fetch(url, { method: "POST", body, headers: auth ? { authorization: "Bearer " + process.env.CIAB_SESSION_TOKEN } : {} }).then((r) => r.status);',
      '(async () => console.log([await post("{"), await post("x".repeat(100000)), await post(JSON.stringify({ path: "a", session_id: "ses_x" })), await post("{}", false)].join(",")))();',
    ].join("\n");
    const { events } = await runToEnd(`node -e '${probe}'`);
    expect(output(events, "stdout").trim(), output(events, "stderr")).toBe("400,413,400,401");
  });
});
