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

  headless(context: LaunchContext, prompt: string): Launch {
    return { command: ["bash", "-lc", prompt], env: gatewayEnvironment(context), files: [] };
  }

  interactive(context: LaunchContext): Launch {
    return { command: ["bash", "-l"], env: gatewayEnvironment(context), files: [] };
  }

  createParser(): AgentOutputParser {
    return createShellParser();
  }
}

export function createShellProvider(): ShellProvider {
  return new ShellProvider();
}

/** Scripts reach models through the gateway too: its per-API URLs and the session's token (never a real key). */
function gatewayEnvironment(context: LaunchContext): Record<string, string> {
  return {
    CIAB_GATEWAY_ANTHROPIC_URL: context.gatewayBaseURL.anthropic,
    CIAB_GATEWAY_OPENAI_URL: context.gatewayBaseURL.openai,
    CIAB_GATEWAY_GOOGLE_URL: context.gatewayBaseURL.google,
    CIAB_GATEWAY_TOKEN: context.gatewayToken,
  };
}
