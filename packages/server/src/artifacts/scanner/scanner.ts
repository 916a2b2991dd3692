import type { Transform } from "node:stream";

/** What a scan found: `clean`, or `infected` with the signature name the scanner gave. */
export interface ScanResult {
  status: "clean" | "infected";
  signature?: string;
}

/**
 * A pass-through that scans the bytes streaming through it. It ends only once the scanner answered, so
 * a store that renames on end never keeps an unscanned file; the scanner failing fails the stream
 * (`scanner_unavailable`).
 */
export interface ScanTap extends Transform {
  /** Known once the stream ended. */
  readonly result: ScanResult;
}

/** A virus scanner (clamd today). */
export interface Scanner {
  /** Connects and starts a scan; rejects with `scanner_unavailable` when the scanner cannot be reached. */
  start(signal?: AbortSignal): Promise<ScanTap>;
}
