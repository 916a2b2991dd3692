export { createShellProvider, ShellProvider } from "./shell-provider.js";
export { createShellParser } from "./shell-parser.js";
