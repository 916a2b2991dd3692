/**
 * The agent channel: HTTP/2 served by ciab-agentd over whatever duplex stream a runtime provides.
 * JSON bodies unless noted; errors are `{ error: { code, message } }` with the status of errors.ts.
 *
 *   GET  /v1/health                         → AgentHealth
 *   POST /v1/exec              ExecRequest  → ExecResult
 *   POST /v1/exec/stream       ExecRequest  → NDJSON ExecFrame lines (headers sent once the process spawned)
 *   POST /v1/processes         StartProcessRequest → ProcessInfo
 *   GET  /v1/processes                      → { processes: ProcessInfo[] }
 *   GET  /v1/processes/:pid                 → ProcessInfo
 *   POST /v1/processes/:pid/signal SignalRequest → ProcessInfo
 *   POST /v1/processes/:pid/stdin  raw body → { written: number }; with `?close=1`, stdin is ended afterwards
 *   POST /v1/processes/:pid/resize ResizeRequest → ProcessInfo (pty processes only)
 *   GET  /v1/processes/:pid/output?follow=1 → NDJSON ExecFrame lines: replay, then live until exit
 *   GET  /v1/processes/:pid/output?follow=1&stdoutOffset=N → the same for a persistOutput process, but
 *        stdout replays from byte N of everything it wrote (frames carry `offset`); stderr is live only
 *   GET  /v1/files/list?path=&depth=1       → { entries: FileEntry[] }
 *   GET  /v1/files/stat?path=               → FileEntry
 *   GET  /v1/files/content?path=            → raw bytes (content-length set; x-ciab-mode header)
 *   PUT  /v1/files/content?path=&mode=      raw body, streamed to disk → FileEntry (parents created)
 *   POST /v1/files/mkdir       MkdirRequest → FileEntry
 *   POST /v1/files/remove      RemoveRequest → { removed: true }
 *   POST /v1/files/rename      RenameRequest → FileEntry
 *   GET  /v1/ports                          → { ports: ListeningPort[] }
 *   CONNECT 127.0.0.1:<port>  (:authority)  → 200, then the stream is a byte tunnel to that loopback port
 *        inside the sandbox (previews); 502 preview_unreachable when nothing accepts there
 *   GET  /v1/archive                        → gzip tar of /workspace, streamed (made by `tar` as the sandbox
 *        user); a failure after the headers resets the stream, so a truncated archive is never a success
 *   PUT  /v1/archive           gzip tar body → ArchiveRestoreResult, unpacked into /workspace by `tar`;
 *        `insufficient_storage` when the disk fills
 */
export const agentRoutes = {
  health: "/v1/health",
  exec: "/v1/exec",
  execStream: "/v1/exec/stream",
  processes: "/v1/processes",
  filesList: "/v1/files/list",
  filesStat: "/v1/files/stat",
  filesContent: "/v1/files/content",
  filesMkdir: "/v1/files/mkdir",
  filesRemove: "/v1/files/remove",
  filesRename: "/v1/files/rename",
  ports: "/v1/ports",
  archive: "/v1/archive",
} as const;

export interface ArchiveRestoreResult {
  restored: true;
}

export interface AgentHealth {
  agent: "ciab-agentd";
  version: string;
  pid: number;
  /** Where /workspace lives on agentd's side (the same path inside a jail; a host dir without isolation). */
  workspaceRoot: string;
  startedAt: string;
  /**
   * The loopback TCP port on which agentd relays to the control plane's model gateway; agents inside the
   * sandbox reach it at `http://127.0.0.1:<gatewayPort>/<anthropic|openai|google>/…`. Absent without a gateway.
   */
  gatewayPort?: number;
  /**
   * The sandbox this agentd was started for. The control plane checks it on every new connection: the
   * socket's directory is writable from inside the sandbox, which could swap it for a link to another
   * sandbox's agentd.
   */
  sandboxID?: string;
}

/**
 * A connection to agentd's socket that starts with `CIAB-CONNECT <port> [<sandboxID>]\n` instead of the
 * HTTP/2 preface is a raw tunnel to that loopback port: agentd answers one line, `OK <sandboxID>\n` then the
 * port's bytes, or `ERR <code> <message>\n` and closes. Given a sandbox that is not its own, agentd
 * connects to nothing and answers `ERR agent_unreachable`. Bulk previews go this way where a transport makes new
 * connections cheap (unix sockets), skipping HTTP/2 framing; CONNECT on the channel is the fallback.
 */
export const rawTunnelGreeting = "CIAB-CONNECT ";

/**
 * A connection that starts with `CIAB-WRITE <length> <mode octal|-> <path, percent-encoded> [<sandboxID>]\n`
 * writes a file of exactly `length` bytes: agentd answers `READY <sandboxID>\n` (or `ERR <code> <message>\n`;
 * given a sandbox that is not its own, it answers `READY` with its own and touches nothing),
 * the control plane then sends the bytes and waits, and agentd answers `OK <file entry JSON>\n` once the
 * file is in place, or `ERR …` (the file untouched). Uploads of a known size go this way: no HTTP/2
 * framing or flow control on the bulk bytes; PUT filesContent on the channel is the fallback.
 */
export const rawWriteGreeting = "CIAB-WRITE ";
/** The longest greeting line agentd reads for a raw write (a percent-encoded path is up to 3 × 4 KiB). */
export const rawWriteGreetingMaxBytes = 16 * 1024;

/** Path of agentd's socket inside a local or docker sandbox; the runtime bind-mounts its directory. */
export const agentSocketDirectory = "/run/ciab";
export const agentSocketName = "agentd.sock";
