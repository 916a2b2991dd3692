import { InvalidArgumentError } from "commander";

const unitSeconds = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/**
 * Commander parser for `--timeout` and `set-timeout`: whole seconds (`90`) or a number with a unit
 * (`10s`, `5m`, `1h`, `2d`, `1h30m`). Answers seconds.
 */
export function parseDuration(value: string): number {
  const text = value.trim();
  if (/^\d+$/.test(text)) return positive(Number(text), value);
  const parts = [...text.matchAll(/(\d+)([smhd])/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join("") !== text) {
    throw new InvalidArgumentError("not a duration: give seconds (300) or a number with s, m, h or d (10s, 5m, 1h30m)");
  }
  return positive(
    parts.reduce((total, part) => total + Number(part[1]) * unitSeconds[part[2] as keyof typeof unitSeconds], 0),
    value,
  );
}

/** Seconds as the largest units that say them exactly: `5m`, `1h30m`, `45s`. */
export function formatDuration(seconds: number): string {
  if (seconds <= 0 || !Number.isInteger(seconds)) return `${seconds}s`;
  let left = seconds;
  let text = "";
  for (const [unit, size] of [["d", 86_400], ["h", 3600], ["m", 60], ["s", 1]] as const) {
    if (left >= size) {
      text += `${Math.floor(left / size)}${unit}`;
      left %= size;
    }
  }
  return text;
}

function positive(seconds: number, value: string): number {
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new InvalidArgumentError(`not a positive duration: ${value}`);
  return seconds;
}
