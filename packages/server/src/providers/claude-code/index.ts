export { ClaudeCodeParser } from "./claude-code-parser.js";
export { ClaudeCodeProvider, claudeCodeInstall, createClaudeCodeProvider } from "./claude-code-provider.js";
