export { createCodexProvider, CodexProvider } from "./codex-provider.js";
export { createCodexParser } from "./codex-parser.js";
