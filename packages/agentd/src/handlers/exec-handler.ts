import type { ExecRequest } from "../protocol.js";
import type { AgentRequest, Handler } from "../http/agent-request.js";
import { FrameWriter, ndjsonHeaders } from "../http/frame-writer.js";
import { readJSONBody } from "../http/read-body.js";
import { respondJSON } from "../http/respond.js";
import { optionalEnv, optionalNumber, optionalString, requireCommand } from "../http/validate.js";
import type { ExecService } from "../services/exec-service.js";

async function readExecRequest(request: AgentRequest): Promise<ExecRequest> {
  const body = await readJSONBody(request.stream);
  const execRequest: ExecRequest = { command: requireCommand(body) };
  const cwd = optionalString(body, "cwd");
  const env = optionalEnv(body);
  const timeoutMs = optionalNumber(body, "timeoutMs");
  const stdin = optionalString(body, "stdin");
  if (cwd !== undefined) execRequest.cwd = cwd;
  if (env !== undefined) execRequest.env = env;
  if (timeoutMs !== undefined) execRequest.timeoutMs = timeoutMs;
  if (stdin !== undefined) execRequest.stdin = stdin;
  return execRequest;
}

export function createExecHandlers(exec: ExecService): { run: Handler; stream: Handler } {
  return {
    run: async (request) => {
      const result = await exec.run(await readExecRequest(request), request.signal);
      respondJSON(request.stream, result);
    },

    stream: async (request) => {
      const run = await exec.start(await readExecRequest(request), request.signal);
      const writer = new FrameWriter(request.stream);
      if (!writer.open) return; // the peer left while the command started; the abort signal killed it
      request.stream.respond(ndjsonHeaders);
      writer.write({ type: "start", pid: run.pid });
      writer.pipeOutput(run.stdout, run.stderr);
      const exit = await run.exited;
      writer.end({ type: "exit", ...exit });
    },
  };
}
