import path from "node:path";
import { stringify } from "smol-toml";
import type { AgentOutputParser, Launch, LaunchContext, Provider } from "../provider.js";
import { createCodexParser } from "./codex-parser.js";

/** A slug the binary has metadata for; with an unknown one codex warns and guesses context limits. */
const defaultModel = "gpt-5.5";
const providerID = "ciab";
/** Names the variable codex reads the key from (`env_key`), so a user's own OPENAI_API_KEY is never used. */
const tokenVariable = "CIAB_GATEWAY_TOKEN";

/**
 * OpenAI's Codex CLI. It ignores OPENAI_BASE_URL, so the gateway is a custom model provider in
 * `$CODEX_HOME/config.toml`, speaking the Responses API. Its own bwrap sandbox is bypassed: the sandbox
 * it runs in is ours, and nested under /tmp it fails while still exiting 0.
 */
export class CodexProvider implements Provider {
  readonly name = "codex" as const;
  readonly install = { npmPackage: "@openai/codex", version: "0.169.0", binary: "codex" };
  readonly gatewayAPI = "openai" as const;

  headless(context: LaunchContext, prompt: string): Launch {
    const codex = ["codex", "exec", "--json", "--skip-git-repo-check", "--ephemeral", ...commonArguments(context), "--", prompt];
    // `codex exec` appends stdin to the prompt and waits for its end; a headless run has nothing to add.
    return { command: ["sh", "-c", 'exec "$@" </dev/null', "sh", ...codex], ...this.#setup(context) };
  }

  interactive(context: LaunchContext): Launch {
    return { command: ["codex", ...commonArguments(context)], ...this.#setup(context) };
  }

  createParser(): AgentOutputParser {
    return createCodexParser();
  }

  #setup(context: LaunchContext): Pick<Launch, "env" | "files"> {
    const codexHome = path.posix.join(context.homeDirectory, ".codex");
    const config = {
      model_provider: providerID,
      model: context.model ?? defaultModel,
      check_for_update_on_startup: false,
      analytics: { enabled: false },
      features: { plugins: false },
      // Skips the TUI's "do you trust this folder" question.
      projects: { [context.workDirectory]: { trust_level: "trusted" } },
      model_providers: {
        [providerID]: {
          name: "ciab gateway",
          base_url: `${context.gatewayBaseURL.openai}/v1`,
          env_key: tokenVariable,
          wire_api: "responses",
        },
      },
    };
    return {
      env: { HOME: context.homeDirectory, CODEX_HOME: codexHome, [tokenVariable]: context.gatewayToken },
      files: [{ path: path.posix.join(codexHome, "config.toml"), content: stringify(config), mode: 0o600 }],
    };
  }
}

function commonArguments(context: LaunchContext): string[] {
  return [
    ...["-c", "analytics.enabled=false", "--disable", "plugins"],
    "--dangerously-bypass-approvals-and-sandbox",
    ...["--cd", context.workDirectory],
  ];
}

export function createCodexProvider(): CodexProvider {
  return new CodexProvider();
}
