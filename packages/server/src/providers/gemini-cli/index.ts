export { createGeminiCLIProvider, GeminiCLIProvider } from "./gemini-cli-provider.js";
export { createGeminiCLIParser } from "./gemini-cli-parser.js";
