import { pino, type Logger as PinoLogger } from "pino";

/** Loggers are passed in, never created inside libraries; `child()` per sandbox. */
export type Logger = PinoLogger;

/** Keys whose values never reach a log line, wherever they sit in a logged object. */
const redactedPaths = [
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "env",
  "*.env",
  "password",
  "*.password",
  "secret",
  "*.secret",
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, redact: { paths: redactedPaths, censor: "[redacted]" }, base: undefined },
    destination ?? process.stderr,
  );
}

export function createSilentLogger(): Logger {
  return pino({ level: "silent" });
}
