import type { CommandContext } from "../../context.js";
import { printEvent } from "../run/run.js";
import { resolveSessionID } from "../../resolve/references.js";

export interface LogsOptions {
  follow?: boolean;
  after?: number;
}

/** `ciab session logs ID [-f]`: the stored events, and with -f the live ones until the session ends. */
export async function logs(context: CommandContext, [id = ""]: string[], options: LogsOptions): Promise<void> {
  try {
    await printLogs(context, id, options);
  } finally {
    context.endSandboxOutput();
  }
}

async function printLogs(context: CommandContext, reference: string, options: LogsOptions): Promise<void> {
  const ciab = await context.client();
  const id = await resolveSessionID(ciab, reference);
  if (options.follow) {
    for await (const event of ciab.sessions.follow(id, { after: options.after ?? 0 })) printEvent(context, event);
    return;
  }
  let after = options.after ?? 0;
  for (;;) {
    const page = await ciab.sessions.events(id, { after, limit: 1000 });
    for (const event of page) printEvent(context, event);
    if (page.length < 1000) return;
    after = page.at(-1)!.seq;
  }
}
