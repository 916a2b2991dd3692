/** Dollars with four decimals: machine time of a few seconds still shows. */
export function formatUSD(value: number): string {
  return `$${value.toFixed(4)}`;
}
