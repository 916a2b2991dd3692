import { finalSessionStates } from "@ciab/protocol";
import { gatewayAPIs, type GatewaySessions, type GatewayUsage } from "../gateway/index.js";
import { getProvider } from "../providers/provider-registry.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/store.js";
import { hashToken } from "./auth-service.js";
import type { ActivityTracker } from "./activity-tracker.js";
import type { EventService } from "./event-service.js";

/**
 * The sessions as the model gateway sees them: a token is good only for its own session, in its own
 * sandbox, while the session lives; usage it meters becomes events and the session's running totals.
 */
export function createSessionGateway(
  store: Store,
  events: EventService,
  logger: Logger,
  /** Model calls are traffic: a headless agent waiting on a long answer is not idle. */
  activity?: ActivityTracker,
): GatewaySessions & { cutOff(sessionID: string): void } {
  const cut = new Set<string>();
  return {
    async resolve(sandboxID, token) {
      const session = await store.sessions.findByGatewayToken(hashToken(token));
      if (!session || session.sandboxID !== sandboxID || finalSessionStates.includes(session.state)) return undefined;
      activity?.touch(sandboxID);
      const api = getProvider(session.provider).gatewayAPI;
      // A shell session's script is told every API's URL (providers/shell): it may call any of them.
      return { sessionID: session.id, workspaceID: session.workspaceID, apis: api === null ? gatewayAPIs : [api] };
    },
    isCutOff: (sessionID) => cut.has(sessionID),
    recordUsage(sessionID, usage: GatewayUsage) {
      const data = { ...usage, source: "gateway" };
      void Promise.all([
        events.append(sessionID, [{ type: "usage.reported", data }]),
        store.sessions.addUsage(sessionID, {
          inputTokens: usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens,
          outputTokens: usage.output_tokens,
          costUSD: usage.cost_usd,
        }),
      ]).catch((error: unknown) => logger.warn({ sessionID, err: String(error) }, "could not record usage"));
    },
    cutOff(sessionID) {
      cut.add(sessionID);
    },
  };
}
