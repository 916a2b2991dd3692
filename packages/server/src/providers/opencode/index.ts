export { createOpencodeProvider, OpencodeProvider } from "./opencode-provider.js";
export { createOpencodeParser } from "./opencode-parser.js";
