import type { Command } from "commander";
import { action } from "../../action.js";
import type { BuildOptions } from "./build.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Adds `ciab image …`; each verb's module loads only when it runs. */
export function addImageCommand(program: Command): void {
  const image = program.command("image").description("machine images built with Packer (AMIs, Docker images)");
  image
    .command("build")
    .description("build an image from a Packer template")
    .option("--provider <provider>", "agent provider to install", "claude-code")
    .option("--region <region>", "AWS region of the AMI (default: [packer] default_region)")
    .option("--instance-type <type>", "instance type of the build instance")
    .option("--template <source>", "builtin://…, a path, an http(s) URL or git::<url>//<path>?ref=<ref>")
    .option("--var <key=value>", "a template variable (repeatable)", collect)
    .option("--wait", "wait for the build to end (a progress bar on a terminal)")
    .option("--verbose", "with --wait, print Packer's log")
    .option("--json", "print the build as JSON")
    .action(action<BuildOptions>(async (context, args, options) => (await import("./build.js")).build(context, args, options)));
  image
    .command("list")
    .alias("ls")
    .description("list built images")
    .option("--region <region>", "only this region's")
    .option("--provider <provider>", "only this provider's")
    .option("--json", "print { images } as JSON")
    .action(action<{ region?: string; provider?: string }>(async (context, args, options) => (await import("./list.js")).list(context, args, options)));
  image
    .command("status")
    .argument("<build_id>", "build id (bld_…)")
    .description("show a build's state: queued, building, succeeded or failed")
    .option("--json", "print the build as JSON")
    .action(action(async (context, args) => (await import("./status.js")).status(context, args)));
  image
    .command("delete")
    .alias("rm")
    .argument("<image_id>", "image id (img_…)")
    .description("deregister the AMI and delete its snapshots, or remove the Docker image")
    .option("--json", "print { deleted } as JSON")
    .action(action(async (context, args) => (await import("./remove.js")).remove(context, args)));
}
