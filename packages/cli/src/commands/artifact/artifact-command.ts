import type { Command } from "commander";
import { action } from "../../action.js";
import { parsePositiveNumber } from "../../parse/numbers.js";
import type { ArtifactListOptions } from "./list.js";
import type { PublishOptions } from "./publish.js";

/** Adds `ciab artifact …`; each verb's module loads only when it runs. */
export function addArtifactCommand(program: Command): void {
  const artifact = program.command("artifact").alias("art").description("files published from sandboxes");
  artifact
    .command("publish")
    .argument("<path>", "file in the sandbox's /workspace")
    .description("copy a file of a sandbox into the artifact store")
    .option("--session <id>", "the session whose sandbox has the file")
    .option("--sandbox <id>", "the sandbox that has the file")
    .option("--mime <type>", "media type (default: from the file name)")
    .option("--description <text>", "what the file is")
    .option("--json", "print the artifact as JSON")
    .action(action<PublishOptions>(async (context, args, options) => (await import("./publish.js")).publish(context, args, options)));
  artifact
    .command("list")
    .alias("ls")
    .description("list artifacts, oldest first")
    .option("--session <id>", "only this session's")
    .option("--sandbox <id>", "only this sandbox's")
    .option("--limit <n>", "page size", parsePositiveNumber)
    .option("--after <id>", "the page after this id")
    .option("--json", "print { artifacts, next } as JSON")
    .action(action<ArtifactListOptions>(async (context, args, options) => (await import("./list.js")).list(context, args, options)));
  artifact
    .command("get")
    .argument("<id>", "artifact id")
    .description("show an artifact and a fresh download URL")
    .option("--json", "print the artifact as JSON")
    .action(action(async (context, args) => (await import("./get.js")).get(context, args)));
  artifact
    .command("download")
    .argument("<id>", "artifact id")
    .description("download an artifact's bytes")
    .option("-o, --output <file>", "where to write (default: its name; - for stdout)")
    .option("--json", "print { path, size, sha256 } as JSON")
    .action(action<{ output?: string }>(async (context, args, options) => (await import("./download.js")).download(context, args, options)));
  artifact
    .command("rm")
    .argument("<id>", "artifact id")
    .description("delete an artifact")
    .option("--json", "print { deleted } as JSON")
    .action(action(async (context, args) => (await import("./remove.js")).remove(context, args)));
}
