import path from "node:path";
import type { AgentOutputParser, Launch, LaunchContext, Provider } from "../provider.js";
import { PiParser } from "./pi-parser.js";

export const piInstall = { npmPackage: "@mariozechner/pi-coding-agent", version: "0.73.1", binary: "pi" } as const;

/** The provider name pi knows the gateway by, in `models.json` and `--model ciab/<id>`. */
export const piGatewayProvider = "ciab";
/** pi needs a model id up front; the gateway passes it upstream unchanged. */
export const piDefaultModel = "claude-sonnet-4-5";
/** models.json names this variable instead of holding the token, so the token stays out of files. */
const tokenVariable = "CIAB_GATEWAY_TOKEN";

/**
 * pi (`@mariozechner/pi-coding-agent`), headless with `--mode json -p`. It reaches the gateway through a
 * custom provider in `$PI_CODING_AGENT_DIR/models.json` speaking the Anthropic Messages API.
 */
export class PiProvider implements Provider {
  readonly name = "pi";
  readonly install = piInstall;
  readonly gatewayAPI = "anthropic";

  headless(context: LaunchContext, prompt: string): Launch {
    return {
      command: ["pi", "--mode", "json", "-p", "--no-session", "--model", modelPattern(context), safePrompt(prompt)],
      env: piEnvironment(context),
      files: [modelsFile(context)],
    };
  }

  interactive(context: LaunchContext): Launch {
    return { command: ["pi", "--model", modelPattern(context)], env: piEnvironment(context), files: [modelsFile(context)] };
  }

  /** The image's pi reaches the gateway through the same models.json `headless` writes. */
  jobSelection(model: string | undefined): Record<string, string> {
    return { JOB_PROVIDER: piGatewayProvider, JOB_MODEL: model ?? piDefaultModel };
  }

  createParser(): AgentOutputParser {
    return new PiParser();
  }
}

export function createPiProvider(): Provider {
  return new PiProvider();
}

function modelPattern(context: LaunchContext): string {
  return `${piGatewayProvider}/${context.model ?? piDefaultModel}`;
}

/** pi has no `--`: a prompt starting with `-` would be a flag and one starting with `@` a file to attach. */
function safePrompt(prompt: string): string {
  return /^[-@]/.test(prompt) ? ` ${prompt}` : prompt;
}

function agentDirectory(context: LaunchContext): string {
  return path.posix.join(context.homeDirectory, ".pi", "agent");
}

function piEnvironment(context: LaunchContext): Record<string, string> {
  return {
    HOME: context.homeDirectory,
    PI_CODING_AGENT_DIR: agentDirectory(context),
    PI_OFFLINE: "1",
    PI_TELEMETRY: "0",
    [tokenVariable]: context.gatewayToken,
  };
}

function modelsFile(context: LaunchContext): Launch["files"][number] {
  const models = {
    providers: {
      [piGatewayProvider]: {
        baseUrl: context.gatewayBaseURL.anthropic,
        api: "anthropic-messages",
        apiKey: tokenVariable,
        models: [{ id: context.model ?? piDefaultModel, contextWindow: 200_000, maxTokens: 32_000 }],
      },
    },
  };
  return { path: path.posix.join(agentDirectory(context), "models.json"), content: `${JSON.stringify(models, null, 2)}\n`, mode: 0o600 };
}
