import { setTimeout as sleep } from "node:timers/promises";
import { parseLaunch } from "./job-files.js";

/**
 * The sandbox env, which ciab hands a task once through a signed single-use URL (`CIAB_CONFIG_URL`) instead
 * of RunTask's overrides: those stay readable in the task's description and in CloudTrail.
 */
const maximumConfigBytes = 1024 * 1024;
const attempts = 10;
const attemptTimeoutMs = 15_000;

export async function fetchSandboxEnv(url: string, log: (message: string) => void): Promise<Record<string, string>> {
  for (let attempt = 1; ; attempt += 1) {
    let answer: Response;
    try {
      answer = await fetch(url, { signal: AbortSignal.timeout(attemptTimeoutMs), redirect: "manual" });
    } catch (error) {
      if (attempt >= attempts) throw new Error(`cannot reach the sandbox config URL: ${(error as Error).message}`);
      log(`the sandbox config URL is not reachable yet (${(error as Error).message}); trying again`);
      await sleep(1_000 * attempt);
      continue;
    }
    if (answer.status >= 500 && attempt < attempts) {
      await answer.body?.cancel();
      await sleep(1_000 * attempt);
      continue;
    }
    // A 401 is a spent or expired URL: retrying cannot help, and running without the env would be another sandbox.
    if (!answer.ok) throw new Error(`the sandbox config URL answered ${answer.status}`);
    return parseLaunch(await boundedText(answer), "the sandbox config");
  }
}

async function boundedText(answer: Response): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of answer.body ?? []) {
    size += chunk.byteLength;
    if (size > maximumConfigBytes) throw new Error(`the sandbox config is larger than ${maximumConfigBytes} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString("utf8");
}
