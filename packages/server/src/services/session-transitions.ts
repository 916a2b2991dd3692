import type { SessionEndReason, SessionState } from "@ciab/protocol";
import type { Logger } from "../logger.js";
import type { SessionRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import type { EventService } from "./event-service.js";

/** How a session is made to end from outside its agent: a cancel, or the budget's loops. */
export interface SessionEnding {
  state: "cancelled" | "failed";
  endReason: SessionEndReason;
  /** For `failed`: the failure's reason code and message. */
  reason?: string;
  message?: string;
}

export interface TransitionDetails {
  exitCode?: number | null;
  reason?: string;
  message?: string;
  endReason?: SessionEndReason;
}

/** The exit code every cancelled session records (docs/decisions/0027-lifetimes-and-accounts.md). */
export const cancelledExitCode = 130;

export const finalStates: readonly SessionState[] = ["completed", "failed", "cancelled"];

/**
 * A session's state changes, recorded in the store and as `session.state.changed` events together, so that
 * the session's row and its event stream never tell two stories.
 */
export function createSessionTransitions(dependencies: { store: Store; events: EventService; logger: Logger }) {
  const { store, events, logger } = dependencies;

  async function transition(session: SessionRecord, state: SessionState, details: TransitionDetails = {}): Promise<SessionRecord> {
    const final = finalStates.includes(state);
    const endReason = details.endReason ?? (state === "cancelled" ? "cancelled" : details.reason === "agent_exit" || state === "completed" ? "agent_exit" : "error");
    // One convention wherever a cancel is seen (store, events, CLI): 130, as a shell reports Ctrl-C.
    if (state === "cancelled") details = { ...details, exitCode: cancelledExitCode };
    const updated = await store.sessions.update(session.id, {
      state,
      ...(final && { endReason }),
      ...(details.exitCode !== undefined && { exitCode: details.exitCode }),
      ...(details.reason !== undefined && { failureReason: details.reason }),
      ...(details.message !== undefined && { failureMessage: details.message }),
      ...(state === "running" || state === "idle" ? { startedAt: session.startedAt ?? new Date().toISOString() } : {}),
      ...(final && { endedAt: new Date().toISOString() }),
    });
    const data: Record<string, unknown> = { state };
    if (details.exitCode !== undefined) data.exit_code = details.exitCode;
    if (details.reason !== undefined) data.reason = details.reason;
    if (details.message !== undefined) data.message = details.message;
    if (final) data.end_reason = endReason;
    await events.append(session.id, [{ type: "session.state.changed", data }]);
    if (final) {
      logger.info({ sessionID: session.id, sandboxID: updated.sandboxID, state, exitCode: updated.exitCode, endReason }, "session ended");
    } else if ((state === "running" || state === "idle") && session.startedAt === null) {
      logger.info({ sessionID: session.id, sandboxID: updated.sandboxID, provider: session.provider }, "session started");
    }
    return updated;
  }

  return {
    transition,

    /** A step of a session's start, told to whoever follows its events. */
    async note(session: SessionRecord, message: string): Promise<void> {
      await events.append(session.id, [{ type: "session.state.changed", data: { state: "starting", message } }]);
    },

    async endAs(session: SessionRecord, ending: SessionEnding, exitCode?: number): Promise<void> {
      await transition(session, ending.state, {
        ...(exitCode !== undefined && { exitCode }),
        ...(ending.reason !== undefined && { reason: ending.reason }),
        ...(ending.message !== undefined && { message: ending.message }),
        endReason: ending.endReason,
      });
    },
  };
}

export type SessionTransitions = ReturnType<typeof createSessionTransitions>;
