import type { Logger } from "../logger.js";
import type { SessionRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import type { Principal } from "./auth-service.js";
import type { EventService } from "./event-service.js";
import type { SandboxGrant } from "./sandbox-policy.js";
import type { SandboxService } from "./sandbox-service.js";

/**
 * A session whose sandbox AWS took back (a spot interruption) gets one more try on a new sandbox made from
 * the same grant: only a session that made its own sandbox can.
 */
export function createSpotRetry(dependencies: { store: Store; events: EventService; sandboxes: SandboxService; logger: Logger }) {
  const { store, events, sandboxes, logger } = dependencies;
  return {
    /**
     * The grant a session that made its own sandbox had, made again after a restart from the stored records
     * only (its user as the store knows them now, the sandbox request it was created with), through the same
     * policy gate: what the machine says plays no part. None when the gate now refuses; the session then runs
     * on without a retry.
     */
    async storedGrant(session: SessionRecord): Promise<SandboxGrant | undefined> {
      if (!session.ownsSandbox) return undefined;
      const user = await store.users.get(session.userID);
      if (!user || user.workspaceID !== session.workspaceID) return undefined;
      const principal: Principal = { userID: user.id, workspaceID: user.workspaceID, role: user.role, installationAdmin: user.installationAdmin, tokenID: "system" };
      try {
        return sandboxes.authorize(principal, session.sandboxRequest);
      } catch (error) {
        logger.warn({ sessionID: session.id, err: String(error) }, "a resumed session's sandbox request is no longer allowed; it will not be retried");
        return undefined;
      }
    },

    /**
     * Whether the session's sandbox failed because AWS took its spot instance back, whoever noticed first
     * (this session's agent call or the reconciler): the sandbox's row says so, whatever error reached here.
     */
    async lostToSpot(session: SessionRecord): Promise<boolean> {
      if (!session.sandboxID) return false;
      const sandbox = await store.sandboxes.get(session.workspaceID, session.sandboxID);
      return sandbox?.state === "failed" && sandbox.failureReason === "spot_interrupted";
    },

    /** Drops a sandbox lost to a spot interruption from the session, so that the next launch makes a new one. */
    async forgetSandbox(session: SessionRecord): Promise<SessionRecord> {
      logger.warn({ sessionID: session.id, sandboxID: session.sandboxID }, "spot instance interrupted; retrying once on a new sandbox");
      await events.append(session.id, [
        {
          type: "session.state.changed",
          data: { state: "starting", message: `sandbox ${session.sandboxID} lost its spot instance; retrying once on a new one` },
        },
      ]);
      return store.sessions.update(session.id, { sandboxID: null, processPID: null, stdoutOffset: 0, gatewayTokenHash: null });
    },
  };
}
