import type { AgentOutputParser, Launch, LaunchContext, Provider } from "../provider.js";
import { createShellParser } from "./shell-parser.js";

/**
 * No agent: the "prompt" is a bash script. Useful to run a job in a sandbox with the same session machinery
 * (events, logs, exit code) as an agent, and as the cheapest provider for tests.
 */
export class ShellProvider implements Provider {
  readonly name = "shell" as const;
  readonly install = null;
  readonly gatewayAPI = null;

  headless(_context: LaunchContext, prompt: string): Launch {
    return { command: ["bash", "-lc", prompt], env: {}, files: [] };
  }

  interactive(_context: LaunchContext): Launch {
    return { command: ["bash", "-l"], env: {}, files: [] };
  }

  createParser(): AgentOutputParser {
    return createShellParser();
  }
}

export function createShellProvider(): ShellProvider {
  return new ShellProvider();
}
