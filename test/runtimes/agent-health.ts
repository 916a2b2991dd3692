import http2 from "node:http2";
import type { Duplex } from "node:stream";
import { createAgentClient, type AgentClient } from "../../packages/server/src/agent-channel/agent-client.js";
import type { Machine, Runtime } from "../../packages/server/src/runtimes/runtime.js";

export interface HealthAnswer {
  status: number;
  body: unknown;
}

/** GET /v1/health over one agent channel, speaking raw HTTP/2 so the test depends on no client of ours. */
export async function getHealth(duplex: Duplex, timeoutMilliseconds = 5_000): Promise<HealthAnswer> {
  const session = http2.connect("http://agentd", { createConnection: () => duplex });
  try {
    return await new Promise<HealthAnswer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("health timed out")), timeoutMilliseconds);
      session.once("error", reject);
      const request = session.request({ ":path": "/v1/health", ":method": "GET" });
      let status = 0;
      let text = "";
      request.setEncoding("utf8");
      request.on("response", (headers) => (status = Number(headers[":status"])));
      request.on("data", (chunk: string) => (text += chunk));
      request.on("error", reject);
      request.on("end", () => {
        clearTimeout(timer);
        try {
          resolve({ status, body: JSON.parse(text) });
        } catch (error) {
          reject(error);
        }
      });
      request.end();
    });
  } finally {
    session.destroy();
    duplex.destroy();
  }
}

/**
 * Waits the way the core does: connectAgent until it stops rejecting, then one health request. Returns the
 * answer and how long it took.
 */
export async function waitForHealth(
  runtime: Runtime,
  machine: Machine,
  timeoutMilliseconds = 20_000,
): Promise<HealthAnswer & { milliseconds: number }> {
  const started = performance.now();
  const deadline = started + timeoutMilliseconds;
  for (;;) {
    try {
      const answer = await getHealth(await runtime.connectAgent(machine), 2_000);
      return { ...answer, milliseconds: performance.now() - started };
    } catch (error) {
      if ((error as { retryable?: boolean }).retryable !== true || performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
}

/** Our agent client over the machine's channel, bound to its sandbox; the caller closes it. */
export function agentClient(runtime: Runtime, machine: Machine): AgentClient {
  return createAgentClient({ connect: () => runtime.connectAgent(machine), expectedSandboxID: machine.sandboxID });
}
