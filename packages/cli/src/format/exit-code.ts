import { constants } from "node:os";

/** Exit status of `timeout(1)`, which scripts already test for. */
export const timedOutExitCode = 124;

/**
 * The exit code `sandbox exec` ends with, following the shell: the command's own, 128 + the signal's
 * number when a signal killed it, 124 when it ran out of time.
 */
export function exitCodeOf(result: { exit_code: number | null; signal: string | null; timed_out: boolean }): number {
  if (result.timed_out) return timedOutExitCode;
  if (result.exit_code !== null) return result.exit_code;
  if (result.signal !== null) {
    const number = (constants.signals as Record<string, number | undefined>)[result.signal];
    return number === undefined ? 128 : 128 + number;
  }
  return 1;
}
