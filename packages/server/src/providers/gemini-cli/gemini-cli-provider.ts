import path from "node:path";
import type { AgentOutputParser, Launch, LaunchContext, Provider } from "../provider.js";
import { createGeminiCLIParser } from "./gemini-cli-parser.js";

/** A fixed model: with the default ("auto") the CLI first asks a classifier model which one to use. */
const defaultModel = "gemini-2.5-pro";

/**
 * Google's Gemini CLI, speaking the Gemini API (`/v1beta/models/M:streamGenerateContent`, key in
 * `x-goog-api-key`) to the gateway's google URL. Settings pick API-key auth, turn off folder trust (which
 * would downgrade yolo to asking), telemetry and update checks.
 */
export class GeminiCLIProvider implements Provider {
  readonly name = "gemini-cli" as const;
  readonly install = { npmPackage: "@google/gemini-cli", version: "0.61.0", binary: "gemini" };
  readonly gatewayAPI = "google" as const;

  headless(context: LaunchContext, prompt: string): Launch {
    const gemini = ["gemini", `--prompt=${prompt}`, "--output-format", "stream-json", ...commonArguments(context)];
    // The CLI prepends whatever stdin holds to the prompt, waiting for its end first.
    return { command: ["sh", "-c", 'exec "$@" </dev/null', "sh", ...gemini], ...this.#setup(context) };
  }

  interactive(context: LaunchContext): Launch {
    return { command: ["gemini", ...commonArguments(context)], ...this.#setup(context) };
  }

  createParser(): AgentOutputParser {
    return createGeminiCLIParser();
  }

  #setup(context: LaunchContext): Pick<Launch, "env" | "files"> {
    const settings = {
      general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
      security: { auth: { selectedType: "gemini-api-key" }, folderTrust: { enabled: false } },
    };
    return {
      env: {
        HOME: context.homeDirectory,
        // The CLI's own home: settings are read from `$GEMINI_CLI_HOME/.gemini/settings.json`.
        GEMINI_CLI_HOME: context.homeDirectory,
        GOOGLE_GEMINI_BASE_URL: context.gatewayBaseURL.google,
        GEMINI_API_KEY: context.gatewayToken,
        // Otherwise it re-executes itself in a child node with a larger heap: two processes per session.
        GEMINI_CLI_NO_RELAUNCH: "true",
      },
      files: [
        {
          path: path.posix.join(context.homeDirectory, ".gemini", "settings.json"),
          content: `${JSON.stringify(settings, null, 2)}\n`,
          mode: 0o600,
        },
      ],
    };
  }
}

function commonArguments(context: LaunchContext): string[] {
  return ["--approval-mode", "yolo", "--model", context.model ?? defaultModel];
}

export function createGeminiCLIProvider(): GeminiCLIProvider {
  return new GeminiCLIProvider();
}
