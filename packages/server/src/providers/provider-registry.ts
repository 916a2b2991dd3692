import { CiabError } from "@ciab/protocol";
import { createClaudeCodeProvider } from "./claude-code/index.js";
import { createCodexProvider } from "./codex/index.js";
import { createGeminiCLIProvider } from "./gemini-cli/index.js";
import { createOpencodeProvider } from "./opencode/index.js";
import { createPiProvider } from "./pi/index.js";
import { createShellProvider } from "./shell/index.js";
import type { Provider, ProviderName } from "./provider.js";

/** Every provider by name; a name missing here is one whose folder is not written yet. */
export const providerFactories: Partial<Record<ProviderName, () => Provider>> = {
  "claude-code": createClaudeCodeProvider,
  pi: createPiProvider,
  codex: createCodexProvider,
  "gemini-cli": createGeminiCLIProvider,
  opencode: createOpencodeProvider,
  shell: createShellProvider,
};

/** The provider called `name`; an unknown name is the caller's mistake (`invalid_request`). */
export function getProvider(name: string): Provider {
  const factory = Object.hasOwn(providerFactories, name) ? providerFactories[name as ProviderName] : undefined;
  if (factory === undefined) {
    const known = Object.keys(providerFactories).join(", ");
    throw new CiabError("invalid_request", `unknown provider ${name}; known: ${known}`, { context: { provider: name } });
  }
  return factory();
}
