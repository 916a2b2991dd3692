import { InvalidArgumentError } from "commander";

/** Commander parser for `--port`. */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError("not a port number");
  return port;
}

/** Commander parser for counts and durations. */
export function parsePositiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError("not a positive number");
  return number;
}
