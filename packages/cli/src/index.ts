export { createProgram, runCli, version } from "./program.js";
