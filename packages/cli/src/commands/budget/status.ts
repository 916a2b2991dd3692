import type { BudgetStatus } from "@ciab/protocol";
import type { CommandContext } from "../../context.js";
import { formatUSD } from "../../format/usd.js";

/** `ciab budget`: this workspace's spending in the clock hour against its hourly cap. */
export async function status(context: CommandContext): Promise<void> {
  const ciab = await context.client();
  context.print(await ciab.usage.budget(), formatBudget);
}

export function formatBudget(budget: BudgetStatus): string {
  const spent = `spent ${formatUSD(budget.spent_usd)} this hour`;
  if (budget.cap_usd === null) return `${spent}; no hourly cap is set ([budget] max_hourly_usd)`;
  const left = Math.max(0, budget.cap_usd - budget.spent_usd);
  return `${spent} of a ${formatUSD(budget.cap_usd)} hourly cap (${formatUSD(left)} left); the hour resets at ${budget.resets_at}`;
}
