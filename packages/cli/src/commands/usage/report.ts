import { usageGroupKeys, type UsageGroupKey } from "@ciab/protocol";
import type { CommandContext } from "../../context.js";
import { formatUsageTable } from "../../format/usage.js";
import { UsageError } from "../../usage-error.js";

export interface UsageOptions {
  from?: string;
  to?: string;
  groupBy?: string;
  workspace?: string;
}

/** `ciab usage`: compute usage from the server's ledger, as a table or `--json`. */
export async function report(context: CommandContext, _args: string[], options: UsageOptions): Promise<void> {
  const groupBy = options.groupBy?.split(",").map((key) => key.trim()).filter(Boolean);
  const unknown = groupBy?.find((key) => !(usageGroupKeys as readonly string[]).includes(key));
  if (unknown !== undefined) throw new UsageError(`--group-by takes ${usageGroupKeys.join(", ")} (got ${unknown})`);
  const ciab = await context.client();
  const usage = await ciab.usage.report({
    ...(options.from !== undefined && { from: options.from }),
    ...(options.to !== undefined && { to: options.to }),
    ...(groupBy !== undefined && { groupBy: groupBy as UsageGroupKey[] }),
    ...(options.workspace !== undefined && { workspaceID: options.workspace }),
  });
  context.print(usage, formatUsageTable);
}
