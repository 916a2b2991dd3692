import type { Ciab, SandboxHandle } from "@ciab/sdk";
import { matchReference } from "./match-reference.js";

const sandboxIDPattern = /^sbx_[0-9a-z]{26}$/;
const sessionIDPattern = /^ses_[0-9a-z]{26}$/;

/** Most sessions searched for a prefix: the newest ones, which are the ones people type. */
const sessionSearchLimit = 1000;

/** The sandbox id a reference (id, name or unique id prefix) means; a whole id costs no lookup. */
export async function resolveSandboxID(ciab: Ciab, reference: string): Promise<string> {
  if (sandboxIDPattern.test(reference)) return reference;
  const sandboxes = await ciab.sandboxes.list({ all: true });
  return matchReference(
    reference,
    "sbx_",
    sandboxes.map(({ info }) => ({
      id: info.id,
      name: info.name,
      live: info.state !== "terminated" && info.state !== "terminating" && info.state !== "failed",
    })),
  );
}

/** The sandbox a reference means, fetched. */
export async function findSandbox(ciab: Ciab, reference: string): Promise<SandboxHandle> {
  return ciab.sandboxes.get(await resolveSandboxID(ciab, reference));
}

/** The session id a reference (id or unique id prefix) means. */
export async function resolveSessionID(ciab: Ciab, reference: string): Promise<string> {
  if (sessionIDPattern.test(reference)) return reference;
  const sessions = await ciab.sessions.list({ limit: sessionSearchLimit });
  return matchReference(
    reference,
    "ses_",
    sessions.map((session) => ({ id: session.id, live: !["completed", "failed", "cancelled"].includes(session.state) })),
  );
}

/** `--session` and `--sandbox` options with their references resolved to ids (absent ones stay absent). */
export async function resolveOptionReferences<Options extends { session?: string; sandbox?: string }>(
  ciab: Ciab,
  options: Options,
): Promise<Options> {
  return {
    ...options,
    ...(options.session !== undefined && { session: await resolveSessionID(ciab, options.session) }),
    ...(options.sandbox !== undefined && { sandbox: await resolveSandboxID(ciab, options.sandbox) }),
  };
}
