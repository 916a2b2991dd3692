import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";

/** One request on the agent channel, as handlers see it. */
export interface AgentRequest {
  stream: ServerHttp2Stream;
  headers: IncomingHttpHeaders;
  query: URLSearchParams;
  /** `:pid` of the process routes. */
  pid: number;
  /** Aborts when the peer resets or closes the stream before the answer ended. */
  signal: AbortSignal;
}

export type Handler = (request: AgentRequest) => Promise<void>;
