/** A secret typed at a prompt (one line) or piped in (all of stdin, less one final newline), so it stays out of shell history. */
export async function readSecret(prompt: string): Promise<string> {
  if (process.stdin.isTTY) {
    process.stderr.write(prompt);
    for await (const line of (await import("node:readline")).createInterface({ input: process.stdin })) return line;
    return "";
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}
