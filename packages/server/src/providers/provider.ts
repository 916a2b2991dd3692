import type { NewSessionEvent } from "@ciab/protocol";

export const providerNames = ["claude-code", "codex", "pi", "gemini-cli", "opencode", "shell"] as const;
export type ProviderName = (typeof providerNames)[number];

/** The model API an agent speaks, which the gateway forwards to the matching upstream. */
export type GatewayAPI = "anthropic" | "openai" | "google";

/** What a provider knows when it builds a launch: where the gateway is and who the session is. */
export interface LaunchContext {
  /** Base URL of the gateway inside the sandbox, per API, e.g. `http://127.0.0.1:41234/anthropic`. */
  gatewayBaseURL: Record<GatewayAPI, string>;
  /** Per-session token the agent sends as its API key; the gateway swaps it for the real key. */
  gatewayToken: string;
  /** The model the user asked for, if any. */
  model: string | undefined;
  /** A directory the provider may use as the agent's home/config dir (exists, writable). */
  homeDirectory: string;
  /** Where the repository is: `/workspace`. */
  workDirectory: string;
}

export interface Launch {
  /** argv; the binary is found on PATH (the provider's install dir is put first on PATH). */
  command: string[];
  env: Record<string, string>;
  /** Files to write before starting (absolute sandbox paths), e.g. pi's models.json, codex's config.toml. */
  files: { path: string; content: string; mode?: number }[];
}

/**
 * Turns an agent's output, line by line, into session events. Never throws: a line it does not
 * understand becomes an `agent.output` event.
 */
export interface AgentOutputParser {
  parseLine(line: string): NewSessionEvent[];
  /** Called once when the output ends; returns anything held back (e.g. an unfinished message). */
  finish(): NewSessionEvent[];
}

/**
 * One coding agent: how to install it, how to launch it headless (a prompt, JSON output, exits) and
 * interactive (its TUI in a PTY), which model API it speaks, and how to read its output.
 */
export interface Provider {
  readonly name: ProviderName;
  /** npm package and version installed into the sandbox (or image), and the binary it provides. */
  readonly install: { npmPackage: string; version: string; binary: string } | null;
  readonly gatewayAPI: GatewayAPI | null;
  /** Headless run; the agent should exit with a meaningful code when done. */
  headless(context: LaunchContext, prompt: string): Launch;
  /** Interactive run in a PTY. */
  interactive(context: LaunchContext): Launch;
  /**
   * The agent's selection as the agent image's entrypoint reads it (`JOB_PROVIDER`, `JOB_MODEL`), for
   * agents a machine can run as its own job (docs/decisions/0038); absent for the others.
   */
  jobSelection?(model: string | undefined): Record<string, string>;
  createParser(): AgentOutputParser;
}
