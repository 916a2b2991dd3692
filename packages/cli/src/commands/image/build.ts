import type { CommandContext } from "../../context.js";
import { formatBuild, formatBuildProgress, parseVars } from "../../format/image.js";
import { createProgress } from "../../progress.js";
import { UsageError } from "../../usage-error.js";

export interface BuildOptions {
  provider?: string;
  region?: string;
  instanceType?: string;
  template?: string;
  var?: string[];
  wait?: boolean;
  verbose?: boolean;
}

/** `ciab image build …`: queues a build; with --wait, follows it (a progress bar, or Packer's log with --verbose). */
export async function build(context: CommandContext, _args: string[], options: BuildOptions): Promise<number> {
  const vars = parseVars(options.var ?? []);
  if (typeof vars === "string") throw new UsageError(vars);
  const ciab = await context.client();
  const queued = await ciab.images.build({
    ...(options.provider !== undefined && { provider: options.provider }),
    ...(options.region !== undefined && { region: options.region }),
    ...(options.instanceType !== undefined && { instanceType: options.instanceType }),
    ...(options.template !== undefined && { template: options.template }),
    vars,
  });
  if (!options.wait) {
    context.print(queued, (value) => `${value.id} ${value.state}`);
    return 0;
  }
  let done;
  if (options.verbose && !context.json) {
    const logs = ciab.images.logs(queued.id);
    for (let next = await logs.next(); ; next = await logs.next()) {
      if (next.done) {
        done = next.value;
        break;
      }
      process.stderr.write(`${next.value}\n`);
    }
  }
  if (!done) {
    const progress = createProgress(process.stderr);
    try {
      done = await ciab.images.waitForBuild(queued.id, { onProgress: (value) => progress.update(formatBuildProgress(value)) });
    } finally {
      progress.stop();
    }
  }
  context.print(done, formatBuild);
  return done.state === "succeeded" ? 0 : 1;
}
