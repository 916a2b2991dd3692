/** USD per million tokens. `cacheWrite` applies to Anthropic's cache creation; the others never report it. */
export interface ModelPrice {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export interface UsageTokens {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
}

const price = (input: number, output: number, cacheRead: number, cacheWrite = 0): ModelPrice => ({
  input,
  output,
  cacheRead,
  cacheWrite,
});

/**
 * List prices by model-name prefix; the longest matching prefix wins (`gpt-4o-mini` before `gpt-4o`), so
 * dated snapshots (`claude-sonnet-4-5-20250929`, `gpt-4.1-2025-04-14`) price as their family. Standard tier,
 * short context (Gemini Pro above 200k tokens and batch/flex pricing are not modelled). A model not listed
 * costs 0: usage is still recorded in tokens.
 */
export const modelPrices: Readonly<Record<string, ModelPrice>> = {
  // Anthropic: cache reads 0.1×, 5-minute cache writes 1.25× the input price.
  "claude-opus-4-5": price(5, 25, 0.5, 6.25),
  "claude-opus-4": price(15, 75, 1.5, 18.75),
  "claude-sonnet-4": price(3, 15, 0.3, 3.75),
  "claude-haiku-4": price(1, 5, 0.1, 1.25),
  "claude-3-7-sonnet": price(3, 15, 0.3, 3.75),
  "claude-3-5-sonnet": price(3, 15, 0.3, 3.75),
  "claude-3-5-haiku": price(0.8, 4, 0.08, 1),
  "claude-3-opus": price(15, 75, 1.5, 18.75),
  "claude-3-haiku": price(0.25, 1.25, 0.03, 0.3),
  // OpenAI: cached input as the third figure.
  "gpt-5-nano": price(0.05, 0.4, 0.005),
  "gpt-5-mini": price(0.25, 2, 0.025),
  "gpt-5": price(1.25, 10, 0.125),
  "gpt-4.1-nano": price(0.1, 0.4, 0.025),
  "gpt-4.1-mini": price(0.4, 1.6, 0.1),
  "gpt-4.1": price(2, 8, 0.5),
  "gpt-4o-mini": price(0.15, 0.6, 0.075),
  "gpt-4o": price(2.5, 10, 1.25),
  "o4-mini": price(1.1, 4.4, 0.275),
  "o3-mini": price(1.1, 4.4, 0.55),
  "o3": price(2, 8, 0.5),
  "o1-mini": price(1.1, 4.4, 0.55),
  "o1": price(15, 60, 7.5),
  "codex-mini": price(1.5, 6, 0.375),
  // Google: context-cache reads as the third figure.
  "gemini-2.5-pro": price(1.25, 10, 0.31),
  "gemini-2.5-flash-lite": price(0.1, 0.4, 0.025),
  "gemini-2.5-flash": price(0.3, 2.5, 0.075),
  "gemini-2.0-flash-lite": price(0.075, 0.3, 0.01875),
  "gemini-2.0-flash": price(0.1, 0.4, 0.025),
  "gemini-1.5-pro": price(1.25, 5, 0.3125),
  "gemini-1.5-flash": price(0.075, 0.3, 0.01875),
};

const prefixesLongestFirst = Object.keys(modelPrices).sort((a, b) => b.length - a.length);

/** The price of a model name as a provider reports it (`models/gemini-2.5-flash` and `openai/gpt-5` too). */
export function priceOf(model: string): ModelPrice | undefined {
  const name = model.toLowerCase().slice(model.lastIndexOf("/") + 1);
  const prefix = prefixesLongestFirst.find((candidate) => name.startsWith(candidate));
  return prefix === undefined ? undefined : modelPrices[prefix];
}

/**
 * USD for the tokens of one response, rounded to a billionth of a dollar (float noise only: per-response
 * rounding to cents or micro-dollars would skew totals summed over thousands of small calls); 0 for an
 * unknown model.
 */
export function costOf(model: string, tokens: UsageTokens): number {
  const found = priceOf(model);
  if (!found) return 0;
  const micro =
    tokens.input_tokens * found.input +
    tokens.output_tokens * found.output +
    tokens.cache_read_tokens * found.cacheRead +
    tokens.cache_write_tokens * found.cacheWrite;
  return Math.round(micro * 1000) / 1e9;
}
