import { CiabError, agentRoutes } from "./protocol.js";
import type { ArchiveHandlers } from "./handlers/archive-handler.js";
import type { FileHandlers } from "./handlers/file-handler.js";
import type { ProcessHandlers } from "./handlers/process-handler.js";
import type { Handler } from "./http/agent-request.js";

/** The handlers of every route of agentRoutes (packages/protocol/src/agent/routes.ts). */
export interface AgentHandlers {
  health: Handler;
  exec: { run: Handler; stream: Handler };
  processes: ProcessHandlers;
  files: FileHandlers;
  ports: Handler;
  archive: ArchiveHandlers;
}

export interface RouteMatch {
  handler: Handler;
  /** `:pid` of /v1/processes/:pid routes, else 0. */
  pid: number;
}

type MethodTable = Partial<Record<string, Handler>>;

const processRoute = /^\/v1\/processes\/(\d+)(?:\/(signal|stdin|resize|output))?$/;

/** Matches method and path to a handler; unknown paths throw `not_found`, known ones with another method `method_not_allowed`. */
export function createRouter(handlers: AgentHandlers): (method: string, path: string) => RouteMatch {
  const table = new Map<string, MethodTable>([
    [agentRoutes.health, { GET: handlers.health }],
    [agentRoutes.exec, { POST: handlers.exec.run }],
    [agentRoutes.execStream, { POST: handlers.exec.stream }],
    [agentRoutes.processes, { GET: handlers.processes.list, POST: handlers.processes.start }],
    [agentRoutes.filesList, { GET: handlers.files.list }],
    [agentRoutes.filesStat, { GET: handlers.files.stat }],
    [agentRoutes.filesContent, { GET: handlers.files.read, PUT: handlers.files.write }],
    [agentRoutes.filesMkdir, { POST: handlers.files.mkdir }],
    [agentRoutes.filesRemove, { POST: handlers.files.remove }],
    [agentRoutes.filesRename, { POST: handlers.files.rename }],
    [agentRoutes.ports, { GET: handlers.ports }],
    [agentRoutes.archive, { GET: handlers.archive.pack, PUT: handlers.archive.unpack }],
  ]);
  const processTables: Record<string, MethodTable> = {
    "": { GET: handlers.processes.get },
    signal: { POST: handlers.processes.signal },
    stdin: { POST: handlers.processes.stdin },
    resize: { POST: handlers.processes.resize },
    output: { GET: handlers.processes.output },
  };

  return (method, path) => {
    let methods = table.get(path);
    let pid = 0;
    if (methods === undefined) {
      const match = processRoute.exec(path);
      if (match) {
        pid = Number(match[1]);
        methods = processTables[match[2] ?? ""];
      }
    }
    if (methods === undefined) throw new CiabError("not_found", `no route ${path}`);
    const handler = methods[method];
    if (handler === undefined) throw new CiabError("method_not_allowed", `${method} is not allowed on ${path}`);
    return { handler, pid };
  };
}
