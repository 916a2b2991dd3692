import type { Command } from "commander";
import { action } from "../../action.js";
import { parseDuration } from "../../parse/duration.js";

/** `ciab sandbox set-timeout ID DURATION`; the verb's module loads only when it runs. */
export function addSetTimeoutCommand(sandbox: Command): void {
  sandbox
    .command("set-timeout")
    .argument("<id>", "sandbox id")
    .argument("<duration>", "how long it lives from now: seconds or 10s, 5m, 1h")
    .description("set how long a sandbox lives from now (and after each resume)")
    .option("--json", "print the sandbox as JSON")
    .addHelpText("after", "\nExample:\n  ciab sandbox set-timeout sbx_01j9z3k8x2 1h")
    .action(action(async (context, args) => (await import("./set-timeout.js")).setTimeout(context, args)));
}
