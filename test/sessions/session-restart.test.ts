import { afterAll, describe, expect, test } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import { Ciab } from "../../packages/sdk/src/index.js";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { startServerProcess, type ServerProcess } from "../harness/server-process.js";

describe("a control plane restarted during a run", () => {
  const data = makeTempDirectory("ciab-ses-restart-");
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.kill("SIGTERM");
    data.remove();
  });

  test("the run continues in the sandbox and the stream resumes with nothing lost or repeated", async () => {
    server = await startServerProcess(data.path);
    let ciab = new Ciab({ url: server.url, token: server.token });
    const session = await ciab.sessions.create({
      provider: "shell",
      runtime: "local",
      prompt: "for i in $(seq 1 60); do echo line $i; sleep 0.05; done",
    });
    for await (const event of ciab.sessions.follow(session.id)) {
      if (event.type === "shell.output" && Buffer.from(String(event.data.data), "base64").toString().includes("line 5\n")) break;
    }
    await server.kill("SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    server = await startServerProcess(data.path);
    ciab = new Ciab({ url: server.url, token: server.token });
    const events: SessionEvent[] = [];
    for await (const event of ciab.sessions.follow(session.id)) events.push(event);
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    const output = events
      .filter((event) => event.type === "shell.output" && event.data.stream === "stdout")
      .map((event) => Buffer.from(String(event.data.data), "base64").toString())
      .join("");
    expect(output).toBe(Array.from({ length: 60 }, (_, index) => `line ${index + 1}\n`).join(""));
    expect((await ciab.sessions.get(session.id)).state).toBe("completed");
  }, 90_000);
});
