import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { Ciab, type ProcessAttachment, type SandboxHandle, type ShellStreamEvent } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/**
 * Interactive and resumable process output through the SDK against a real server: attach over WebSocket
 * to a pty process, detach, shell streams resumed with Last-Event-ID. Each runtime's file calls this.
 */
export function processStreamsSuite(runtime: "local" | "docker"): void {
  describe(`process streams on ${runtime}`, () => {
    let server: TestServer;
    let sandbox: SandboxHandle;
    beforeAll(async () => {
      server = await startTestServer();
      sandbox = await new Ciab({ url: server.url, token: server.token }).sandboxes.create({ runtime });
    });
    afterAll(async () => server?.close());

    // Retried: once, on docker, under heavy disk and CPU load (an `npm ci` beside the suite), this test saw
    // no output at all within 15 s; it has not reproduced since (quiet, or with both cores busy). Open.
    test("attach: pty echo, resize, exit over the WebSocket", { retry: 2 }, async () => {
      const script = 'stty size; read go; stty size; read line; echo "got:$line"; stty size; exit 5';
      const started = await sandbox.processes.start(["sh", "-c", script], { pty: { cols: 80, rows: 24 } });
      expect(started.pty).toEqual({ cols: 80, rows: 24 });
      const attachment = await sandbox.processes.attach(started.pid, { cols: 100, rows: 40 });
      const output = collect(attachment);
      await output.waitFor(/24 80\r\n/);
      attachment.write("go\r");
      await output.waitFor(/40 100\r\n/); // the size given on attach
      attachment.resize(120, 50);
      await until(async () => (await sandbox.processes.get(started.pid)).pty?.cols === 120);
      attachment.write("hi there\r");
      expect(await attachment.exited).toEqual({ exit_code: 5, signal: null });
      await output.done;
      expect(output.text()).toContain("hi there\r\n"); // echoed by the terminal
      expect(output.text()).toContain("got:hi there\r\n50 120\r\n");
    });

    test("attach: an interactive bash sees the resize (SIGWINCH) and exits with its code", async () => {
      const started = await sandbox.processes.start(["bash", "--norc", "--noprofile", "-i"], {
        pty: { cols: 80, rows: 24 },
        env: { PS1: "prompt> " },
      });
      const attachment = await sandbox.processes.attach(started.pid);
      const output = collect(attachment);
      await output.waitFor(/prompt> /);
      attachment.resize(120, 50);
      await until(async () => (await sandbox.processes.get(started.pid)).pty?.rows === 50);
      attachment.write('echo "size=$COLUMNS/$LINES tty=$(tty)"\r');
      await output.waitFor(/size=120\/50 tty=\/dev\/pts\/\d+/);
      attachment.write("exit 7\r");
      expect(await attachment.exited).toEqual({ exit_code: 7, signal: null });
    });

    test("detaching leaves the process running, and attaching again replays what it printed", async () => {
      const started = await sandbox.processes.start(["sh", "-c", 'echo started; while read line; do echo "echo:$line"; done'], {
        pty: { cols: 80, rows: 24 },
      });
      const first = await sandbox.processes.attach(started.pid);
      const firstOutput = collect(first);
      await firstOutput.waitFor(/started/);
      first.write("one\r");
      await firstOutput.waitFor(/echo:one/);
      await first.close();
      await expect(first.exited).rejects.toMatchObject({ code: "connection_failed" });
      expect((await sandbox.processes.get(started.pid)).running).toBe(true);

      const second = await sandbox.processes.attach(started.pid);
      const secondOutput = collect(second);
      await secondOutput.waitFor(/started(.|\r|\n)*echo:one/);
      second.write("two\r");
      await secondOutput.waitFor(/echo:two/);
      second.write("\x04"); // Ctrl-D: end of input for `read`
      expect(await second.exited).toEqual({ exit_code: 0, signal: null });
    });

    test("attach answers typed errors before the upgrade and takes ?token= too", async () => {
      await expect(sandbox.processes.attach(999_999)).rejects.toMatchObject({ code: "process_not_found", status: 404 });
      const started = await sandbox.processes.start(["sh", "-c", "echo via-query; sleep 0.2"]);
      const path = `/api/v1/sandboxes/${sandbox.id}/processes/${started.pid}/attach`;
      const refused = await openRaw(`${server.url.replace("http", "ws")}${path}`);
      expect(refused).toMatchObject({ status: 401 });
      const opened = await openRaw(`${server.url.replace("http", "ws")}${path}?token=${server.token}`);
      expect(opened).toMatchObject({ status: 101 });
      expect(opened.text).toContain("via-query");
      expect(opened.messages.at(-1)).toMatchObject({ type: "exit", exit_code: 0 });
    });

    test("shell stream: bash -lc, survives its tail, resumes exactly at Last-Event-ID", async () => {
      const cmd = 'for i in $(seq 1 400); do echo "line $i of a long shell stream"; [ $((i % 50)) = 0 ] && sleep 0.05; done; echo err >&2; exit 2';
      const { stream_id: streamID } = await sandbox.shell.stream(cmd);
      const expected = Array.from({ length: 400 }, (_, index) => `line ${index + 1} of a long shell stream\n`).join("") + "err\n";
      let received = "";
      let last: ShellStreamEvent | undefined;
      for await (const event of sandbox.shell.tail(streamID)) {
        last = event;
        if (event.type === "exec.output") received += event.data.toString();
        if (received.length > 3000) break; // the client goes away mid-stream
      }
      expect(Buffer.byteLength(received)).toBe(last!.offset);
      const resumed: ShellStreamEvent[] = [];
      for await (const event of sandbox.shell.tail(streamID, { after: last!.offset })) resumed.push(event);
      for (const event of resumed) if (event.type === "exec.output") received += event.data.toString();
      expect(received).toBe(expected);
      expect(resumed.at(-1)).toMatchObject({ type: "exec.exit", exit_code: 2, offset: Buffer.byteLength(expected) });
      const whole: string[] = [];
      for await (const event of sandbox.shell.tail(streamID)) if (event.type === "exec.output") whole.push(event.data.toString());
      expect(whole.join("")).toBe(expected);
    });
  });
}

interface Collected {
  text(): string;
  waitFor(pattern: RegExp): Promise<void>;
  done: Promise<void>;
}

function collect(attachment: ProcessAttachment): Collected {
  let text = "";
  const done = (async () => {
    for await (const chunk of attachment.output) text += chunk.toString();
  })();
  return {
    text: () => text,
    done,
    waitFor: (pattern) => until(async () => pattern.test(text), `${pattern} in ${JSON.stringify(text)}`),
  };
}

async function until(check: () => Promise<boolean>, what = "the condition"): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A bare WebSocket client, as a browser would connect: answers the status, the bytes and the text messages. */
function openRaw(url: string): Promise<{ status: number; text: string; messages: Record<string, unknown>[] }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    let text = "";
    const messages: Record<string, unknown>[] = [];
    socket.on("unexpected-response", (request, response) => {
      request.destroy();
      resolve({ status: response.statusCode ?? 0, text, messages });
    });
    socket.on("message", (data, isBinary) => {
      if (isBinary) text += data.toString();
      else messages.push(JSON.parse(data.toString()) as Record<string, unknown>);
    });
    socket.on("close", () => resolve({ status: 101, text, messages }));
    socket.on("error", reject);
  });
}
