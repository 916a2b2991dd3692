import { CiabError, type SignalRequest, type StartProcessRequest } from "../protocol.js";
import type { Handler } from "../http/agent-request.js";
import { FrameWriter, ndjsonHeaders } from "../http/frame-writer.js";
import { readBody, readJSONBody } from "../http/read-body.js";
import { respondJSON } from "../http/respond.js";
import { optionalEnv, optionalString, requireCommand, requireString } from "../http/validate.js";
import type { ProcessService } from "../services/process-service.js";

const signals = new Set<string>(["SIGTERM", "SIGKILL", "SIGINT", "SIGHUP", "SIGSTOP", "SIGCONT", "SIGUSR1", "SIGUSR2"]);

/** A follower that falls this far behind is dropped rather than letting agentd's memory grow. */
const followerBacklogLimitBytes = 8 * 1024 * 1024;

export type ProcessHandlers = Record<"start" | "list" | "get" | "signal" | "stdin" | "output", Handler>;

export function createProcessHandlers(processes: ProcessService): ProcessHandlers {
  return {
    start: async ({ stream }) => {
      const body = await readJSONBody(stream);
      const request: StartProcessRequest = { command: requireCommand(body) };
      const cwd = optionalString(body, "cwd");
      const env = optionalEnv(body);
      const tag = optionalString(body, "tag");
      if (cwd !== undefined) request.cwd = cwd;
      if (env !== undefined) request.env = env;
      if (tag !== undefined) request.tag = tag;
      respondJSON(stream, await processes.start(request));
    },

    list: async ({ stream }) => {
      respondJSON(stream, { processes: processes.list() });
    },

    get: async ({ stream, pid }) => {
      respondJSON(stream, processes.get(pid));
    },

    signal: async ({ stream, pid }) => {
      const signal = requireString(await readJSONBody(stream), "signal");
      if (!signals.has(signal)) throw new CiabError("invalid_request", `unsupported signal ${signal}`);
      respondJSON(stream, processes.signal(pid, signal as SignalRequest["signal"]));
    },

    stdin: async ({ stream, pid }) => {
      processes.get(pid); // answer process_not_found before reading a body
      respondJSON(stream, { written: await processes.writeStdin(pid, await readBody(stream)) });
    },

    output: async ({ stream, pid, query }) => {
      const follow = query.get("follow") === "1" || query.get("follow") === "true";
      const writer = new FrameWriter(stream);
      let finish = (): void => undefined;
      const done = new Promise<void>((resolve) => (finish = resolve));
      const subscription = processes.subscribe(pid, follow, (frame) => {
        writer.write(frame);
        if (frame.type === "exit") {
          writer.end();
          finish();
        } else if (writer.buffered > followerBacklogLimitBytes) {
          stream.close();
          finish();
        }
      });
      stream.once("close", finish);
      try {
        stream.respond(ndjsonHeaders);
        for (const frame of subscription.replay) writer.write(frame);
        if (!subscription.live) writer.end();
        else await done;
      } finally {
        subscription.unsubscribe();
      }
    },
  };
}
