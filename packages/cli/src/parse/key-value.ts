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
