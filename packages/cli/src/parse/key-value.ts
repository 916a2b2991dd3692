import { UsageError } from "../usage-error.js";

/** `--env K=V` and `--tag K=V` pairs into a record; the value may itself contain `=`. */
export function parseKeyValues(pairs: readonly string[], flag: string): Record<string, string> {
  const record: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf("=");
    if (equals <= 0) throw new UsageError(`${flag} expects KEY=VALUE, got "${pair}"`);
    record[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return record;
}

/** Commander collector for options given several times. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--tag K=V` (that value) or `--tag K` (any value) filters, as the SDK's `tags` takes them. */
export function parseTagFilters(filters: readonly string[]): Record<string, string | null> {
  const record: Record<string, string | null> = {};
  for (const filter of filters) {
    const equals = filter.indexOf("=");
    if (equals === 0 || filter === "") throw new UsageError(`--tag expects KEY=VALUE or KEY, got "${filter}"`);
    if (equals === -1) record[filter] = null;
    else record[filter.slice(0, equals)] = filter.slice(equals + 1);
  }
  return record;
}
