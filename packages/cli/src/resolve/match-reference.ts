import { UsageError } from "../usage-error.js";

/** Something addressable by id, and for sandboxes by name too. */
export interface Candidate {
  id: string;
  name?: string;
  /** Terminated or failed ones yield to live ones of the same name. */
  live: boolean;
}

/** A reference that names nothing: the command fails as a lookup of a missing id would. */
export class ReferenceNotFoundError extends Error {
  override readonly name = "ReferenceNotFoundError";
  readonly code = "not_found";
}

/** Candidates listed in an ambiguity error; more are counted, not shown. */
const shownCandidates = 10;

/**
 * The id a reference means: a whole id, a name (live sandboxes first), or a unique prefix of an id with or
 * without its `sbx_`/`ses_` prefix, as Docker takes them. An ambiguous one fails with the candidates listed,
 * so that nothing is done to a sandbox the user did not mean: a name that is also the prefix of another's id
 * is ambiguous too, since anyone in the workspace may name a sandbox after a colleague's id prefix.
 */
export function matchReference(reference: string, idPrefix: string, candidates: readonly Candidate[]): string {
  const kind = idPrefix === "sbx_" ? "sandbox" : "session";
  if (reference === "") throw new UsageError(`no ${kind} given`);
  if (candidates.some((candidate) => candidate.id === reference)) return reference;
  const named = candidates.filter((candidate) => candidate.name === reference);
  const liveNamed = named.filter((candidate) => candidate.live);
  const byName = liveNamed.length > 0 ? liveNamed : named;
  const full = reference.startsWith(idPrefix) ? reference : idPrefix + reference;
  const prefixed = candidates.filter((candidate) => candidate.id.startsWith(full));
  if (byName.length === 1) {
    const others = prefixed.filter((candidate) => candidate.id !== byName[0]!.id);
    if (others.length > 0) throw ambiguous(reference, kind, [...byName, ...others]);
    return byName[0]!.id;
  }
  if (byName.length > 1) throw ambiguous(reference, kind, byName);
  if (prefixed.length === 1) return prefixed[0]!.id;
  if (prefixed.length > 1) throw ambiguous(reference, kind, prefixed);
  throw new ReferenceNotFoundError(`no ${kind} has the id, name or id prefix "${reference}"`);
}

function ambiguous(reference: string, kind: string, matches: readonly Candidate[]): UsageError {
  const lines = matches
    .slice(0, shownCandidates)
    .map((candidate) => `  ${candidate.id}${candidate.name ? ` (${candidate.name})` : ""}${candidate.live ? "" : " ended"}`);
  if (matches.length > shownCandidates) lines.push(`  … and ${matches.length - shownCandidates} more`);
  const plural = kind === "sandbox" ? "sandboxes" : "sessions";
  return new UsageError(`"${reference}" matches ${matches.length} ${plural}; use more of the id:\n${lines.join("\n")}`);
}
