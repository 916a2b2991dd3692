import path from "node:path";

/** The few types worth guessing from a name when the publisher gave none; the rest are octet-stream. */
const byExtension: Record<string, string> = {
  ".txt": "text/plain",
  ".md": "text/markdown",
  ".log": "text/plain",
  ".csv": "text/csv",
  ".json": "application/json",
  ".html": "text/html",
  ".pdf": "application/pdf",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".svg": "image/svg+xml",
  ".mp4": "video/mp4",
  ".zip": "application/zip",
  ".gz": "application/gzip",
  ".tar": "application/x-tar",
};

export function guessMime(filePath: string): string {
  return byExtension[path.extname(filePath).toLowerCase()] ?? "application/octet-stream";
}
