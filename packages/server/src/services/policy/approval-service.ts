import { setTimeout as sleep } from "node:timers/promises";
import { CiabError, type Approval } from "@ciab/protocol";
import type { DataKey } from "../../data-key.js";
import { newID } from "../../ids.js";
import type { ApprovalRecord } from "../../store/approval-audit-records.js";
import type { Store } from "../../store/store.js";
import type { Principal } from "../auth-service.js";

export interface ApprovalServiceDependencies {
  store: Store;
  dataKey: DataKey;
  /** `[policy] approval_timeout_seconds`. */
  timeoutMs: number;
}

/** What a held call needs to run later, sealed together. */
export interface HeldCall {
  args: Record<string, unknown>;
  /** The origin the caller used, for URLs in the result. */
  origin: string;
}

export type ApprovalOutcome = NonNullable<Approval["outcome"]>;

/** How often a waiting caller looks at the store, for decisions made on another replica. */
const pollMs = 250;

export function isAdmin(principal: Principal): boolean {
  return principal.role === "admin" || principal.installationAdmin;
}

/**
 * The approval queue: held tool calls in the store (they survive restarts), decided once by a workspace
 * admin. A decision is one conditional update, so a second decision, or one past the deadline, loses.
 */
export function createApprovalService(dependencies: ApprovalServiceDependencies) {
  const { store, dataKey } = dependencies;
  const wakers = new Map<string, Set<() => void>>();

  function wake(id: string): void {
    for (const waker of wakers.get(id) ?? []) waker();
  }

  /** Marks a pending approval past its deadline expired, so every reader sees the same state. */
  async function settle(record: ApprovalRecord): Promise<ApprovalRecord> {
    if (record.state !== "pending" || Date.parse(record.expiresAt) > Date.now()) return record;
    await store.approvals.decide(record.id, "expired", null, new Date().toISOString());
    return (await store.approvals.get(record.workspaceID, record.id)) ?? record;
  }

  async function find(workspaceID: string, id: string): Promise<ApprovalRecord> {
    const record = await store.approvals.get(workspaceID, id);
    if (!record) throw new CiabError("not_found", `no approval ${id} in this workspace`);
    return settle(record);
  }

  function view(record: ApprovalRecord): Approval {
    return {
      id: record.id,
      state: record.state,
      tool: record.tool,
      session_id: record.sessionID,
      sandbox_id: record.sandboxID,
      requested_by: record.userID,
      summary: JSON.parse(record.summary) as Record<string, unknown>,
      args_digest: record.argsDigest,
      reason: record.reason,
      created_at: record.createdAt,
      expires_at: record.expiresAt,
      decided_by: record.decidedBy,
      decided_at: record.decidedAt,
      decision_note: record.decisionNote,
      outcome: record.sealedOutcome === null ? null : (JSON.parse(dataKey.open(record.sealedOutcome)) as ApprovalOutcome),
    };
  }

  return {
    view,

    async hold(input: {
      principal: Principal;
      sessionID: string;
      sandboxID: string;
      tool: string;
      call: HeldCall;
      summary: Record<string, unknown>;
      argsDigest: string;
      reason: string;
    }): Promise<ApprovalRecord> {
      const now = Date.now();
      const record: ApprovalRecord = {
        id: newID("apr", now),
        workspaceID: input.principal.workspaceID,
        userID: input.principal.userID,
        sessionID: input.sessionID,
        sandboxID: input.sandboxID,
        tool: input.tool,
        summary: JSON.stringify(input.summary),
        argsDigest: input.argsDigest,
        sealedArgs: dataKey.seal(JSON.stringify(input.call)),
        reason: input.reason,
        state: "pending",
        createdAt: new Date(now).toISOString(),
        expiresAt: new Date(now + dependencies.timeoutMs).toISOString(),
        decidedBy: null,
        decidedAt: null,
        decisionNote: null,
        sealedOutcome: null,
      };
      await store.approvals.create(record);
      return record;
    },

    /** Admins see the workspace's approvals, members the ones they asked for. */
    async get(principal: Principal, id: string): Promise<ApprovalRecord> {
      const record = await find(principal.workspaceID, id);
      if (!isAdmin(principal) && record.userID !== principal.userID) throw new CiabError("not_found", `no approval ${id} in this workspace`);
      return record;
    },

    async list(principal: Principal, filter: { state?: ApprovalRecord["state"] | undefined; sessionID?: string | undefined; after?: string | undefined; limit: number }) {
      const userID = isAdmin(principal) ? undefined : principal.userID;
      // Expired rows are settled first, so a filter on `pending` never lists one past its deadline.
      const records = await store.approvals.list(principal.workspaceID, { ...filter, state: undefined, userID, limit: 10_000 });
      const settled = await Promise.all(records.map(settle));
      const matching = settled.filter((record) => filter.state === undefined || record.state === filter.state);
      const page = matching.slice(0, filter.limit);
      return { records: page, next: matching.length > filter.limit ? (page.at(-1)?.id ?? null) : null };
    },

    /** Decides once; the caller of `approve` then runs the held call. Members may not decide (403). */
    async decide(principal: Principal, id: string, decision: "approved" | "denied", note: string | null = null): Promise<ApprovalRecord> {
      if (!isAdmin(principal)) throw new CiabError("forbidden", "only workspace admins decide approvals");
      const record = await find(principal.workspaceID, id);
      if (record.state === "expired") throw new CiabError("approval_timeout", `approval ${id} expired at ${record.expiresAt}`);
      // The call runs as the user who asked: one removed since has nothing left to run as (decision 0046).
      if (decision === "approved" && record.state === "pending") {
        const requester = await store.users.get(record.userID);
        if (!requester || requester.removedAt) {
          throw new CiabError("conflict", `approval ${id} was asked for by a user since removed: its call will not run; deny it`, { context: { state: record.state } });
        }
      }
      const won = record.state === "pending" && (await store.approvals.decide(id, decision, principal.userID, new Date().toISOString(), note));
      if (!won) {
        const current = await find(principal.workspaceID, id);
        throw new CiabError("conflict", `approval ${id} is already ${current.state}`, { context: { state: current.state } });
      }
      wake(id);
      return (await store.approvals.get(principal.workspaceID, id))!;
    },

    openCall(record: ApprovalRecord): HeldCall {
      return JSON.parse(dataKey.open(record.sealedArgs)) as HeldCall;
    },

    /**
     * Keeps an approved call's outcome. One larger than the store holds is replaced by an error that says so:
     * the call has run either way, and an approval without an outcome would keep its callers waiting.
     */
    async setOutcome(record: ApprovalRecord, outcome: ApprovalOutcome): Promise<void> {
      const sealed = dataKey.seal(JSON.stringify(outcome));
      try {
        await store.approvals.setOutcome(record.id, sealed);
      } catch (error) {
        if (!(error instanceof CiabError) || error.code !== "payload_too_large") throw error;
        const message = `the approved call ran (${outcome.status}), but its result of ${sealed.length} sealed bytes is more than the store keeps`;
        const kept: ApprovalOutcome = { status: "failed", error: { code: "payload_too_large", message } };
        await store.approvals.setOutcome(record.id, dataKey.seal(JSON.stringify(kept)));
      }
      wake(record.id);
    },

    /**
     * Waits until the approval is final (denied, expired, or approved with its call's outcome) or `waitMs`
     * passes; answers the record as it then is.
     */
    async wait(workspaceID: string, id: string, waitMs: number, signal?: AbortSignal): Promise<ApprovalRecord> {
      const deadline = Date.now() + waitMs;
      let woken: () => void = () => undefined;
      const wakeSet = wakers.get(id) ?? new Set();
      wakers.set(id, wakeSet);
      try {
        for (;;) {
          const record = await find(workspaceID, id);
          const final = record.state === "denied" || record.state === "expired" || record.sealedOutcome !== null;
          // A pending call is final at its deadline; an approved one runs on past it until its outcome lands.
          const until = record.state === "pending" ? Math.min(deadline, Date.parse(record.expiresAt) + pollMs) : deadline;
          const left = until - Date.now();
          if (final || left <= 0 || signal?.aborted) return record;
          const wakeup = new Promise<void>((resolve) => {
            woken = resolve;
            wakeSet.add(resolve);
          });
          await Promise.race([wakeup, sleep(Math.min(pollMs, left), undefined, signal ? { signal } : {}).catch(() => undefined)]);
          wakeSet.delete(woken);
        }
      } finally {
        wakeSet.delete(woken);
        if (wakeSet.size === 0) wakers.delete(id);
      }
    },
  };
}

export type ApprovalService = ReturnType<typeof createApprovalService>;
