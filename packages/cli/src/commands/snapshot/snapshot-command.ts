import { Option, type Command } from "commander";
import type { RuntimeName } from "@ciab/protocol";
import { action } from "../../action.js";

/** Adds `ciab snapshot …`; each verb's module loads only when it runs. */
export function addSnapshotCommand(program: Command): void {
  const snapshot = program.command("snapshot").alias("snap").description("tarballs of sandboxes' /workspace");
  snapshot
    .command("create")
    .description("snapshot the /workspace of a sandbox or of a session's sandbox")
    .option("--session <id>", "the session")
    .option("--sandbox <id>", "the sandbox")
    .option("--label <label>", "a name to remember it by")
    .option("--json", "print the snapshot as JSON")
    .action(
      action<{ session?: string; sandbox?: string; label?: string }>(async (context, args, options) =>
        (await import("./create.js")).create(context, args, options),
      ),
    );
  snapshot
    .command("list")
    .alias("ls")
    .description("list snapshots, oldest first")
    .option("--session <id>", "only this session's")
    .option("--sandbox <id>", "only this sandbox's")
    .option("--json", "print { snapshots, next } as JSON")
    .action(
      action<{ session?: string; sandbox?: string }>(async (context, args, options) => (await import("./list.js")).list(context, args, options)),
    );
  snapshot
    .command("restore")
    .argument("<id>", "snapshot id")
    .description("create a sandbox whose /workspace starts from the snapshot")
    .addOption(new Option("--runtime <runtime>", "runtime of the new sandbox").choices(["local", "docker", "ec2", "fargate"]))
    .option("--json", "print the sandbox as JSON")
    .action(
      action<{ runtime?: RuntimeName }>(async (context, args, options) => (await import("./restore.js")).restore(context, args, options)),
    );
  snapshot
    .command("rm")
    .argument("<id>", "snapshot id")
    .description("delete a snapshot")
    .option("--json", "print { deleted } as JSON")
    .action(action(async (context, args) => (await import("./remove.js")).remove(context, args)));
}
