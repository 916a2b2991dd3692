import path from "node:path";
import type { AgentOutputParser, Launch, LaunchContext, Provider } from "../provider.js";
import { ClaudeCodeParser } from "./claude-code-parser.js";

/** The last release that runs on Node 20 (later ones need Node 22). */
export const claudeCodeInstall = { npmPackage: "@anthropic-ai/claude-code", version: "2.1.197", binary: "claude" } as const;

/**
 * Claude Code, headless with `-p … --output-format stream-json`. It runs as root inside sandboxes, where
 * `--dangerously-skip-permissions` is refused unless `IS_SANDBOX=1` says the sandbox is the boundary.
 */
export class ClaudeCodeProvider implements Provider {
  readonly name = "claude-code";
  readonly install = claudeCodeInstall;
  readonly gatewayAPI = "anthropic";

  headless(context: LaunchContext, prompt: string): Launch {
    return {
      // `--` keeps a prompt that starts with a dash from being read as a flag.
      command: [
        "claude",
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--include-partial-messages",
        "--dangerously-skip-permissions",
        ...modelArguments(context),
        "--",
        prompt,
      ],
      env: claudeEnvironment(context),
      files: [claudeStateFile(context)],
    };
  }

  interactive(context: LaunchContext): Launch {
    return {
      command: ["claude", "--dangerously-skip-permissions", ...modelArguments(context)],
      env: claudeEnvironment(context),
      files: [claudeStateFile(context)],
    };
  }

  createParser(): AgentOutputParser {
    return new ClaudeCodeParser();
  }
}

export function createClaudeCodeProvider(): Provider {
  return new ClaudeCodeProvider();
}

function modelArguments(context: LaunchContext): string[] {
  return context.model === undefined ? [] : ["--model", context.model];
}

/** Without the traffic and updater switches it probes the public API host and checks for updates. */
function claudeEnvironment(context: LaunchContext): Record<string, string> {
  return {
    HOME: context.homeDirectory,
    ANTHROPIC_BASE_URL: context.gatewayBaseURL.anthropic,
    ANTHROPIC_API_KEY: context.gatewayToken,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    IS_SANDBOX: "1",
  };
}

/**
 * `~/.claude.json` with the first-run questions answered: onboarding, trusting the work directory, using
 * the API key from the environment (approved by its last 20 characters) and the bypass-permissions warning.
 * The TUI stops at each of them otherwise; headless runs ignore them.
 */
function claudeStateFile(context: LaunchContext): Launch["files"][number] {
  const state = {
    hasCompletedOnboarding: true,
    bypassPermissionsModeAccepted: true,
    customApiKeyResponses: { approved: [context.gatewayToken.slice(-20)], rejected: [] },
    projects: { [context.workDirectory]: { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true } },
  };
  return { path: path.posix.join(context.homeDirectory, ".claude.json"), content: `${JSON.stringify(state, null, 2)}\n`, mode: 0o600 };
}
