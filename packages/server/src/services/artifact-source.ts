import { CiabError } from "@ciab/protocol";
import type { Store } from "../store/store.js";
import type { Principal } from "./auth-service.js";

/** Which sandbox a publish or snapshot reads from: a sandbox id, or a session's sandbox. */
export async function resolveSource(
  store: Store,
  principal: Principal,
  source: { sessionID?: string | undefined; sandboxID?: string | undefined },
): Promise<{ sandboxID: string; sessionID: string | null }> {
  if (source.sessionID !== undefined) {
    const session = await store.sessions.get(principal.workspaceID, source.sessionID);
    if (!session) throw new CiabError("not_found", `no session ${source.sessionID} in this workspace`);
    if (session.sandboxID === null) {
      throw new CiabError("invalid_state", `session ${session.id} has no sandbox yet (it is ${session.state})`);
    }
    return { sandboxID: session.sandboxID, sessionID: session.id };
  }
  if (source.sandboxID === undefined) throw new CiabError("invalid_request", "give session_id or sandbox_id");
  return { sandboxID: source.sandboxID, sessionID: null };
}

/** Maps failures of the store's own I/O to a typed error; errors that already have a code pass through. */
export function storeFailure(error: unknown): CiabError {
  if (error instanceof CiabError) return error;
  const errno = (error as NodeJS.ErrnoException).code;
  return new CiabError("artifact_store_unavailable", `the artifact store failed: ${errno ?? String(error)}`, { cause: error, retryable: true });
}
