import path from "node:path";
import type { AgentOutputParser, Launch, LaunchContext, Provider } from "../provider.js";
import { createOpencodeParser } from "./opencode-parser.js";

const defaultModel = "gpt-5.5";
const providerID = "ciab";
const tokenVariable = "CIAB_GATEWAY_TOKEN";

/**
 * sst's opencode, through a custom OpenAI-compatible provider (Chat Completions, bundled in the binary,
 * so nothing is fetched) whose base URL is the gateway's openai URL. Its data, cache and state dirs live
 * in the session's home directory; the variables switch off what would reach the network on its own
 * (models.dev, updates, default plugins, LSP downloads, sharing).
 */
export class OpencodeProvider implements Provider {
  readonly name = "opencode" as const;
  readonly install = { npmPackage: "opencode-ai", version: "1.18.33", binary: "opencode" };
  readonly gatewayAPI = "openai" as const;

  headless(context: LaunchContext, prompt: string): Launch {
    const opencode = ["opencode", "run", "--format", "json", "--auto", "--dir", context.workDirectory, "--", prompt];
    // `opencode run` appends piped stdin to the message, waiting for its end first.
    return { command: ["sh", "-c", 'exec "$@" </dev/null', "sh", ...opencode], ...this.#setup(context) };
  }

  interactive(context: LaunchContext): Launch {
    return { command: ["opencode", context.workDirectory], ...this.#setup(context) };
  }

  createParser(): AgentOutputParser {
    return createOpencodeParser();
  }

  #setup(context: LaunchContext): Pick<Launch, "env" | "files"> {
    const model = context.model ?? defaultModel;
    const configPath = path.posix.join(context.homeDirectory, ".config", "opencode", "opencode.json");
    const config = {
      $schema: "https://opencode.ai/config.json",
      model: `${providerID}/${model}`,
      small_model: `${providerID}/${model}`,
      enabled_providers: [providerID],
      autoupdate: false,
      share: "disabled",
      permission: { edit: "allow", bash: "allow", webfetch: "allow", external_directory: "allow" },
      provider: {
        [providerID]: {
          npm: "@ai-sdk/openai-compatible",
          name: "ciab gateway",
          options: { baseURL: `${context.gatewayBaseURL.openai}/v1`, apiKey: `{env:${tokenVariable}}` },
          models: { [model]: { name: model, tool_call: true } },
        },
      },
    };
    const home = context.homeDirectory;
    return {
      env: {
        HOME: home,
        OPENCODE_CONFIG: configPath,
        XDG_CONFIG_HOME: path.posix.join(home, ".config"),
        XDG_DATA_HOME: path.posix.join(home, ".local", "share"),
        XDG_CACHE_HOME: path.posix.join(home, ".cache"),
        XDG_STATE_HOME: path.posix.join(home, ".local", "state"),
        OPENCODE_DISABLE_AUTOUPDATE: "1",
        OPENCODE_DISABLE_MODELS_FETCH: "1",
        OPENCODE_DISABLE_DEFAULT_PLUGINS: "1",
        OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
        OPENCODE_DISABLE_SHARE: "1",
        [tokenVariable]: context.gatewayToken,
      },
      files: [{ path: configPath, content: `${JSON.stringify(config, null, 2)}\n`, mode: 0o600 }],
    };
  }
}

export function createOpencodeProvider(): OpencodeProvider {
  return new OpencodeProvider();
}
