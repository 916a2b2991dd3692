import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the fault endpoint does with one EC2 call, chosen by its `Action`. */
export type FaultAction =
  | { kind: "forward" }
  /** Answers with an AWS XML error body, as EC2 does for refused credentials. */
  | { kind: "refuse"; status: number; code: string; message: string }
  /** Cuts the connection without an answer, as a server that died mid-call. */
  | { kind: "drop" }
  /** Forwards the call, then never answers; `onForwarded` runs once moto has answered. */
  | { kind: "hold"; onForwarded: () => void };

export interface FaultEndpoint {
  /** `http://127.0.0.1:<port>` for `[runtime.ec2] endpoint`. */
  endpoint: string;
  /** Actions seen, in order. */
  readonly actions: string[];
  close(): Promise<void>;
}

/**
 * A loopback endpoint in front of moto that plays AWS faults moto cannot: refused credentials, an endpoint
 * dying in the middle of one call, an answer that never comes. Everything else is forwarded unchanged.
 */
export async function startFaultEndpoint(motoEndpoint: string, decide: (action: string) => FaultAction): Promise<FaultEndpoint> {
  const target = new URL(motoEndpoint);
  const actions: string[] = [];
  const held = new Set<ServerResponse>();
  const server = createServer((incoming, response) => {
    void readBody(incoming).then((body) => {
      const action = new URLSearchParams(body.toString("utf8")).get("Action") ?? "";
      actions.push(action);
      const fault = decide(action);
      if (fault.kind === "refuse") {
        const xml = `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${fault.code}</Code><Message>${fault.message}</Message></Error></Errors><RequestID>fault-endpoint</RequestID></Response>`;
        response.writeHead(fault.status, { "content-type": "text/xml" }).end(xml);
        return;
      }
      if (fault.kind === "drop") {
        incoming.socket.destroy();
        return;
      }
      const forwarded = httpRequest(
        { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
        (answer) => {
          if (fault.kind === "hold") {
            answer.resume();
            answer.once("end", fault.onForwarded);
            held.add(response);
            return;
          }
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      forwarded.once("error", () => incoming.socket.destroy());
      forwarded.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    actions,
    async close() {
      for (const response of held) response.socket?.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function readBody(incoming: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
