import { CiabError, type ShellStreamBody, type ShellStreamRequestBody } from "@ciab/protocol";
import type { Principal } from "./auth-service.js";
import { startFrames, type StartedFrames } from "./exec-service.js";
import type { SandboxService } from "./sandbox-service.js";

/**
 * `bash -lc CMD` (plain sh where an image has no bash), stderr folded into stdout as a terminal would show
 * it: the stream is then one byte sequence, kept whole on disk by agentd, that a reader can resume from any
 * offset.
 */
export function shellStreamCommand(cmd: string): string[] {
  const script = 'if command -v bash >/dev/null 2>&1; then exec bash -lc "$1" 2>&1; else exec sh -c "$1" 2>&1; fi';
  return ["/bin/sh", "-c", script, "sh", cmd];
}

export const shellStreamTag = "shell-stream";

function parseStreamID(streamID: string): number {
  const pid = /^[1-9]\d{0,9}$/.test(streamID) ? Number(streamID) : Number.NaN;
  if (!Number.isSafeInteger(pid)) throw new CiabError("process_not_found", `no shell stream ${streamID}`);
  return pid;
}

/**
 * Shell streams: a background process with persisted output, named by its pid. It runs on whether or not
 * anyone tails it, and every tail can start at any byte.
 */
export function createShellService(sandboxes: SandboxService) {
  return {
    async start(principal: Principal, id: string, body: ShellStreamRequestBody): Promise<ShellStreamBody> {
      const info = await sandboxes.withAgentActive(principal, id, (agent) =>
        agent.startProcess({
          command: shellStreamCommand(body.cmd),
          ...(body.cwd !== undefined && { cwd: body.cwd }),
          ...(body.env !== undefined && { env: body.env }),
          tag: shellStreamTag,
          persistOutput: true,
        }),
      );
      return { stream_id: String(info.pid), pid: info.pid };
    },

    /** The stream's output from byte `offset` of its stdout, then live until it exits. */
    tail(principal: Principal, id: string, streamID: string, offset: number, signal: AbortSignal): Promise<StartedFrames> {
      const pid = parseStreamID(streamID);
      return sandboxes.withAgent(principal, id, (agent) =>
        startFrames(agent.processOutput(pid, { follow: true, stdoutOffset: offset }, signal)),
      );
    },
  };
}

export type ShellService = ReturnType<typeof createShellService>;
