import { CiabError } from "@ciab/protocol";
import type { SandboxRecord } from "../store/records.js";
import type { Principal } from "./auth-service.js";

/** Takes a snapshot of a ready sandbox's /workspace with `label` and answers its id (the snapshot service). */
export type SnapshotTaker = (sandbox: SandboxRecord, label: string, signal: AbortSignal) => Promise<string>;

/** How the snapshot a `snapshot-on-idle` sandbox takes as it ends went; `why` says what ended it. */
export type FinalSnapshotOutcome =
  | { snapshotID: string; label: string; why: string }
  | { error: CiabError; why: string };

/**
 * Takes the snapshot before the sandbox goes, within `timeoutMs` whatever the agent or the store do: past it
 * the call is aborted and the sandbox ends without a snapshot, so a hung agent cannot keep it alive.
 */
export async function takeFinalSnapshot(take: SnapshotTaker, sandbox: SandboxRecord, why: string, timeoutMs: number): Promise<FinalSnapshotOutcome> {
  const label = `auto-snapshot (${why})`;
  const controller = new AbortController();
  const timeout = new CiabError("request_timeout", `the snapshot took longer than ${Math.round(timeoutMs / 1000)} s`);
  const timer = setTimeout(() => controller.abort(timeout), timeoutMs);
  const expired = new Promise<never>((_, reject) => controller.signal.addEventListener("abort", () => reject(timeout), { once: true }));
  try {
    const snapshotID = await Promise.race([take(sandbox, label, controller.signal), expired]);
    return { snapshotID, label, why };
  } catch (error) {
    const failure = error instanceof CiabError ? error : new CiabError("internal", String(error), { cause: error });
    return { error: failure, why };
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

/** The sandbox's own user, as whom its final snapshot is taken and recorded (so they can restore it). */
export function sandboxOwner(sandbox: SandboxRecord): Principal {
  return { userID: sandbox.userID, workspaceID: sandbox.workspaceID, role: "member", installationAdmin: false, tokenID: "system" };
}
