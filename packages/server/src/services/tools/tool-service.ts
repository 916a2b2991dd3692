import { CiabError, errorStatus, type Approval } from "@ciab/protocol";
import type { Store } from "../../store/store.js";
import type { ApprovalRecord } from "../../store/approval-audit-records.js";
import { resolveSource } from "../artifact-source.js";
import type { Principal } from "../auth-service.js";
import { argumentDigest } from "../audit/argument-digest.js";
import { errorCodeOf, type AuditLog } from "../audit/audit-log.js";
import type { ApprovalOutcome, ApprovalService } from "../policy/approval-service.js";
import type { ToolPolicy } from "../policy/tool-policy.js";
import type { ToolServices } from "./tool-definition.js";
import { toolByName } from "./tool-registry.js";

export interface ToolServiceDependencies {
  store: Store;
  services: ToolServices;
  policy: ToolPolicy;
  approvals: ApprovalService;
  audit: AuditLog;
  /** `[policy] approval_max_wait_seconds`. */
  maxWaitMs: number;
}

export interface ToolCallOptions {
  origin: string;
  /** How long to wait for a held call's decision before answering it pending; 0 answers at once. */
  waitMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** A call's answer: its result, or the approval it waits on. */
export type ToolCallAnswer = { kind: "result"; result: unknown } | { kind: "pending"; approval: Pick<Approval, "id" | "state" | "expires_at"> };

/** A principal for running a held call as the user who asked (with a member's rights, in their workspace). */
function requester(record: ApprovalRecord): Principal {
  return { userID: record.userID, workspaceID: record.workspaceID, role: "member", installationAdmin: false, tokenID: `approval:${record.id}` };
}

/**
 * The sandbox tools by name, for the REST route and MCP alike: validates the arguments, places the call on the
 * session's sandbox, asks the policy, holds it for approval or runs it, and records it in the audit trail.
 */
export function createToolService(dependencies: ToolServiceDependencies) {
  const { store, services, policy, approvals, audit } = dependencies;

  async function execute(principal: Principal, place: { sessionID: string; sandboxID: string }, name: string, args: Record<string, unknown>, options: ToolCallOptions, approvalID?: string) {
    const tool = toolByName(name);
    const started = performance.now();
    const entry = { workspaceID: principal.workspaceID, actor: principal.userID, tool: name, ...place, args, approvalID };
    try {
      const result = await tool.run({ principal, ...place, origin: options.origin, signal: options.signal, services }, args as never);
      await audit.record({ ...entry, durationMs: performance.now() - started });
      return result;
    } catch (error) {
      await audit.record({ ...entry, error, durationMs: performance.now() - started });
      throw error;
    }
  }

  /** The answer a waiting caller gets from a final approval (or the approval itself while it is not). */
  function answerOf(record: ApprovalRecord): ToolCallAnswer {
    if (record.state === "denied") {
      // The lead's note goes to the agent as written: it is the lead's text, shown, never acted on here.
      const note = record.decisionNote ? `: ${record.decisionNote}` : "";
      throw new CiabError("approval_denied", `approval ${record.id} was denied${note}`, { context: { approval_id: record.id } });
    }
    if (record.state === "expired") {
      throw new CiabError("approval_timeout", `approval ${record.id} was not decided before ${record.expiresAt}`, { context: { approval_id: record.id } });
    }
    const outcome = approvals.view(record).outcome;
    if (!outcome) return { kind: "pending", approval: { id: record.id, state: record.state, expires_at: record.expiresAt } };
    if (outcome.status === "succeeded") return { kind: "result", result: outcome.result };
    const code = outcome.error?.code;
    throw new CiabError(code && code in errorStatus ? (code as never) : "internal", outcome.error?.message ?? "the approved call failed", { context: { approval_id: record.id } });
  }

  return {
    async call(principal: Principal, sessionID: string, name: string, rawArgs: unknown, options: ToolCallOptions): Promise<ToolCallAnswer> {
      const tool = toolByName(name);
      const parsed = tool.schema.safeParse(rawArgs ?? {});
      if (!parsed.success) {
        const summary = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(args)"}: ${issue.message}`).join("; ");
        throw new CiabError("invalid_request", `invalid arguments of ${name}: ${summary}`);
      }
      const args = parsed.data as Record<string, unknown>;
      const { sandboxID } = await resolveSource(store, principal, { sessionID });
      const place = { sessionID, sandboxID };
      const decision = policy.decide(name, args);
      if (decision.action === "deny") {
        const error = new CiabError("forbidden", `${name} refused by ${decision.reason}`);
        await audit.record({ workspaceID: principal.workspaceID, actor: principal.userID, tool: name, ...place, args, error, durationMs: 0 });
        throw error;
      }
      if (decision.action === "allow") return { kind: "result", result: await execute(principal, place, name, args, options) };

      const argsDigest = argumentDigest(args);
      const held = await approvals.hold({
        principal,
        ...place,
        tool: name,
        call: { args, origin: options.origin },
        summary: tool.summary(args as never),
        argsDigest,
        reason: decision.reason,
      });
      await audit.record({ workspaceID: principal.workspaceID, actor: principal.userID, tool: name, ...place, args, pending: true, approvalID: held.id, durationMs: 0 });
      const waitMs = Math.min(options.waitMs ?? 0, dependencies.maxWaitMs);
      const record = waitMs > 0 ? await approvals.wait(principal.workspaceID, held.id, waitMs, options.signal) : held;
      return answerOf(record);
    },

    /** An admin's decision; an approved call runs once, here, as the user who asked, and its outcome is kept. */
    /** The note is kept on the approval, not in the audit entry (which keeps digests of what it is given). */
    async decide(principal: Principal, id: string, decision: "approved" | "denied", note: string | null = null): Promise<ApprovalRecord> {
      const started = performance.now();
      const entry = { workspaceID: principal.workspaceID, actor: principal.userID, tool: decision === "approved" ? "approval.approve" : "approval.deny", args: { id }, approvalID: id };
      let record: ApprovalRecord;
      try {
        record = await approvals.decide(principal, id, decision, note);
      } catch (error) {
        await audit.record({ ...entry, error, durationMs: performance.now() - started });
        throw error;
      }
      await audit.record({ ...entry, sandboxID: record.sandboxID, sessionID: record.sessionID, durationMs: performance.now() - started });
      if (decision === "denied") return record;
      const call = approvals.openCall(record);
      let outcome: ApprovalOutcome;
      try {
        const result = await execute(requester(record), { sessionID: record.sessionID, sandboxID: record.sandboxID }, record.tool, call.args, { origin: call.origin }, record.id);
        outcome = { status: "succeeded", result };
      } catch (error) {
        outcome = { status: "failed", error: { code: errorCodeOf(error), message: error instanceof Error ? error.message : String(error) } };
      }
      await approvals.setOutcome(record, outcome);
      return (await store.approvals.get(record.workspaceID, record.id)) ?? record;
    },

    /** A caller's own approval, waited on again (the 202 answer's follow-up). */
    async await(principal: Principal, id: string, waitMs: number, signal?: AbortSignal): Promise<ToolCallAnswer> {
      await approvals.get(principal, id);
      return answerOf(await approvals.wait(principal.workspaceID, id, Math.min(waitMs, dependencies.maxWaitMs), signal));
    },
  };
}

export type ToolService = ReturnType<typeof createToolService>;
