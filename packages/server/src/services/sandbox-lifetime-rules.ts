import { CiabError } from "@ciab/protocol";
import type { SandboxPatch, SandboxRecord, SandboxTimeoutAction } from "../store/records.js";

/** How long sandboxes live (`[sandboxes]` in seconds); loops/sandbox-lifetimes.ts enforces it. */
export interface SandboxLifetimes {
  defaultTimeoutSeconds: number;
  maxTimeoutSeconds: number;
  onTimeout: SandboxTimeoutAction;
  pausedRetentionSeconds: number;
}

const shippedLifetimes: SandboxLifetimes = {
  defaultTimeoutSeconds: 300,
  maxTimeoutSeconds: 7 * 24 * 3600,
  onTimeout: "pause",
  pausedRetentionSeconds: 24 * 3600,
};

/**
 * The deadlines each lifecycle step writes (docs/decisions/0027-lifetimes-and-accounts.md): a ready or
 * resumed sandbox expires a timeout from now, a paused one is deleted a retention from now.
 */
export function createLifetimeRules(lifetimes: SandboxLifetimes = shippedLifetimes) {
  const timeoutOf = (sandbox: SandboxRecord) => sandbox.timeoutSeconds ?? lifetimes.defaultTimeoutSeconds;
  return {
    /** `invalid_request` over `[sandboxes] max_timeout_seconds`. */
    check(seconds: number | undefined): void {
      if (seconds === undefined || seconds <= lifetimes.maxTimeoutSeconds) return;
      throw new CiabError(
        "invalid_request",
        `timeout_secs ${seconds} is over this server's limit of ${lifetimes.maxTimeoutSeconds} ([sandboxes] max_timeout_seconds, CIAB_SANDBOXES_MAX_TIMEOUT_SECONDS)`,
      );
    },
    /** A new sandbox's timeout and action: the request's, or the server's. */
    initial(request: { timeout_secs?: number | undefined; on_timeout?: SandboxTimeoutAction | undefined }) {
      return {
        timeoutSeconds: request.timeout_secs ?? lifetimes.defaultTimeoutSeconds,
        onTimeout: request.on_timeout ?? lifetimes.onTimeout,
        expiresAt: null,
        deleteAfter: null,
      };
    },
    /** Ready, resumed, or held by a live session: a whole timeout from now. */
    running(sandbox: SandboxRecord): SandboxPatch {
      return { expiresAt: secondsFromNow(timeoutOf(sandbox)), deleteAfter: null };
    },
    paused(): SandboxPatch {
      return { deleteAfter: secondsFromNow(lifetimes.pausedRetentionSeconds) };
    },
    /** A paused sandbox is kept at least the new timeout; one provisioning gets it when ready. */
    setTimeout(sandbox: SandboxRecord, seconds: number): SandboxPatch {
      this.check(seconds);
      const until = secondsFromNow(seconds);
      const patch: SandboxPatch = { timeoutSeconds: seconds };
      if (sandbox.state === "ready") patch.expiresAt = until;
      if (sandbox.state === "paused" && sandbox.deleteAfter && sandbox.deleteAfter < until) patch.deleteAfter = until;
      return patch;
    },
  };
}

function secondsFromNow(seconds: number): string {
  return new Date(Date.now() + seconds * 1000).toISOString();
}
