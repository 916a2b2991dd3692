import type { Command } from "commander";
import { action } from "../../action.js";

/** Adds `ciab volume …`; each verb's module loads only when it runs. */
export function addVolumeCommand(program: Command): void {
  const volume = program.command("volume").alias("vol").description("persistent work dirs (sessions opt in with --persistence persistent-volume)");
  volume
    .command("list")
    .alias("ls")
    .description("list your volumes (a workspace admin: everyone's), oldest first")
    .option("--json", "print { volumes } as JSON")
    .action(action(async (context) => (await import("./list.js")).list(context)));
  volume
    .command("rm")
    .alias("delete")
    .argument("<id>", "volume id")
    .description("delete a volume and its files (refused while a sandbox mounts it)")
    .option("--json", "print { deleted } as JSON")
    .action(action(async (context, args) => (await import("./remove.js")).remove(context, args)));
}
