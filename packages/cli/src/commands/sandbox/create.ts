import type { CreateSandboxRequest } from "@ciab/protocol";
import type { CommandContext } from "../../context.js";
import { formatProgress, formatSandboxSummary } from "../../format/sandbox.js";
import { parseKeyValues } from "../../parse/key-value.js";
import { createProgress } from "../../progress.js";

export interface CreateOptions {
  runtime?: CreateSandboxRequest["runtime"];
  image?: string;
  name?: string;
  env?: string[];
  tag?: string[];
  cpus?: number;
  memoryMb?: number;
  network?: "none" | "host";
  timeout?: number;
  onTimeout?: "pause" | "delete";
  persistence?: CreateSandboxRequest["persistence"];
  volume?: string;
  volumeSize?: number;
}

/** `ciab sandbox create`: asks without waiting, then follows provisioning with a spinner on a terminal. */
export async function create(context: CommandContext, _args: string[], options: CreateOptions): Promise<void> {
  const request: CreateSandboxRequest = {
    runtime: options.runtime,
    image: options.image,
    name: options.name,
    network: options.network,
    timeout_secs: options.timeout,
    on_timeout: options.onTimeout,
    persistence: options.persistence,
    volume: options.volume,
    volume_size_gib: options.volumeSize,
  };
  if (options.env?.length) request.env = parseKeyValues(options.env, "--env");
  if (options.tag?.length) request.tags = parseKeyValues(options.tag, "--tag");
  if (options.cpus !== undefined || options.memoryMb !== undefined) {
    request.resources = { cpus: options.cpus, memory_mb: options.memoryMb };
  }
  const ciab = await context.client();
  const sandbox = await ciab.sandboxes.create(request, { wait: false });
  for (const note of sandbox.info.notes ?? []) process.stderr.write(`note: ${note}\n`);
  const progress = createProgress(process.stderr);
  try {
    await sandbox.waitUntilReady({ intervalMs: 100, onUpdate: (info) => progress.update(formatProgress(info)) });
  } finally {
    progress.stop();
  }
  context.print(sandbox.info, formatSandboxSummary);
}
