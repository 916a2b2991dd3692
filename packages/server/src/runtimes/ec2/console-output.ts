import { maximumConsoleOutputBytes } from "../runtime.js";

/**
 * AWS's base64 console text, cut to its last `maximumConsoleOutputBytes`. The instance wrote it, so an
 * answer of any size is decoded only from a whole base64 quantum near its end.
 */
export function decodeConsoleOutput(encoded: string | undefined): string {
  if (encoded === undefined) return "";
  const start = Math.max(0, encoded.length - Math.ceil((maximumConsoleOutputBytes * 4) / 3) - 4);
  const bytes = Buffer.from(encoded.slice(start - (start % 4)), "base64");
  return bytes.subarray(Math.max(0, bytes.length - maximumConsoleOutputBytes)).toString("utf8");
}
