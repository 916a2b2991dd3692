import { setTimeout as sleep } from "node:timers/promises";
import { CiabError, type ExecFrame, type NewSessionEvent } from "@ciab/protocol";
import type { Provider } from "../providers/provider.js";
import type { SessionRecord } from "../store/records.js";
import type { Principal } from "./auth-service.js";
import type { ActivityTracker } from "./activity-tracker.js";
import type { EventService } from "./event-service.js";
import { OutputLines } from "./output-lines.js";
import type { SandboxService } from "./sandbox-service.js";

export interface SessionOutputReaderDependencies {
  sandboxes: SandboxService;
  events: EventService;
  /** Told of the agent's output, which keeps its session from being idle. */
  activity?: ActivityTracker | undefined;
  /** `[policy] max_session_output_mb`, in bytes: a headless agent printing more fails. */
  maxOutputBytes: number;
}

export type AgentExit = Extract<ExecFrame, { type: "exit" }>;

/** How often a cut output stream is resumed before the session fails. */
const outputReconnects = 5;

/** Raw lines past this size are not kept beside their events (the parsed event still is). */
const maximumRawBytes = 64 * 1024;

/**
 * Follows a session's agent output from its stored offset until the agent exits, turning lines into stored
 * events; resumable after a restart. A stream cut short (agentd drops a reader that falls far behind; a
 * channel breaks) is picked up again from the last complete line, since agentd keeps the whole stdout.
 */
export async function readAgentOutput(
  dependencies: SessionOutputReaderDependencies,
  session: SessionRecord,
  provider: Provider,
  principal: Principal,
  signal: AbortSignal,
): Promise<AgentExit> {
  const { sandboxes, events } = dependencies;
  const parser = provider.createParser();
  const lines = new OutputLines(session.stdoutOffset);
  const interactive = session.prompt === null;
  let exit: AgentExit | undefined;
  // Every byte a headless agent prints becomes stored events: past the cap it is stopped before it fills
  // the host's disk. An interactive session's output stays in agentd, so it has no such cap.
  let stderrBytes = 0;
  const checkOutputCap = () => {
    if (interactive || lines.consumedOffset + stderrBytes <= dependencies.maxOutputBytes) return;
    const megabytes = Math.round(dependencies.maxOutputBytes / 1024 / 1024);
    throw new CiabError("payload_too_large", `the agent printed more than ${megabytes} MB ([policy] max_session_output_mb)`);
  };
  for (let attempt = 0; exit === undefined; attempt += 1) {
    const offsetBefore = lines.consumedOffset;
    try {
      exit = await sandboxes.withAgent(principal, session.sandboxID!, async (agent) => {
        const frames = agent.processOutput(session.processPID!, { follow: true, stdoutOffset: lines.consumedOffset }, signal);
        for await (const frame of frames) {
          if (frame.type === "stdout" || frame.type === "stderr") dependencies.activity?.touch(session.sandboxID!);
          if (frame.type === "stdout") {
            const found = lines.push(Buffer.from(frame.data, "base64"), frame.offset);
            checkOutputCap();
            const parsed = interactive ? [] : found.flatMap((line) => withRaw(parser.parseLine(line), line));
            if (parsed.length > 0 || found.length > 0) await events.append(session.id, parsed, lines.consumedOffset);
          } else if (frame.type === "stderr" && !interactive) {
            stderrBytes += Buffer.byteLength(frame.data, "base64");
            checkOutputCap();
            await events.append(session.id, [{ type: "shell.output", data: { stream: "stderr", data: frame.data } }]);
          } else if (frame.type === "exit") {
            return frame;
          }
        }
        return undefined;
      });
    } catch (error) {
      if (lines.consumedOffset > offsetBefore) attempt = -1;
      const retryable = error instanceof CiabError && error.code === "agent_unreachable";
      if (signal.aborted || !retryable || attempt >= outputReconnects) throw error;
    }
    if (exit === undefined) {
      // A reader that kept up until agentd dropped it (an agent printing faster than events are stored) made
      // progress: only reconnects that bring nothing new count against the limit.
      if (lines.consumedOffset > offsetBefore) attempt = -1;
      if (attempt >= outputReconnects) throw new CiabError("agent_unreachable", "the agent's output ended without an exit status");
      await sleep(100 * (attempt + 1), undefined, { signal });
    }
  }
  const tail = lines.flush().flatMap((line) => withRaw(parser.parseLine(line), line));
  await events.append(session.id, [...tail, ...parser.finish()], lines.consumedOffset);
  return exit;
}

function withRaw(parsed: NewSessionEvent[], line: string): NewSessionEvent[] {
  if (parsed.length === 0 || line.length > maximumRawBytes) return parsed;
  // The raw line rides on the first event it produced, so it is stored once.
  return parsed.map((event, index) => (index === 0 && event.raw === undefined ? { ...event, raw: line } : event));
}
