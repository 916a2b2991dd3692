import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { makeTempDirectory } from "../temp-directory.js";
import { agentAMINamePrefix } from "./amis.js";
import { docker, imageLabels } from "./docker-cli.js";

/** Debian with cloud-init and sshd, built by scripts/build-ami-image.sh: what every AMI boots by default. */
export const plainAMIImage = "ciab/ami-debian:bookworm";
/** The plain image plus Node at /opt/ciab/bin/node and agentd at /opt/ciab/bin/ciab-agentd.js (no unit). */
export const agentAMIImage = "ciab/ami-agent:bookworm";
/**
 * The agent image this process made sure of, tagged by what it holds: checkouts with different agentd
 * bundles test on one dockerd at once, and a tag shared by all of them would boot another one's agentd.
 */
let agentImageOfThisRun: string | undefined;

/** The Docker image an AMI boots, by the AMI's name. */
export function imageForAMI(amiName: string | undefined): string {
  return amiName?.startsWith(agentAMINamePrefix) ? (agentImageOfThisRun ?? agentAMIImage) : plainAMIImage;
}

export async function assertPlainAMIImagePresent(): Promise<void> {
  if (!(await imageLabels(plainAMIImage))) {
    throw new Error(`image ${plainAMIImage} is missing: run scripts/build-ami-image.sh (about a minute, cached)`);
  }
}

/**
 * Makes the pre-built agent image from the plain one unless an image from the same plain image, agentd
 * bundle and Node binary is present; answers whether it built. Two runs racing both commit the same content
 * under the same tag.
 */
export async function ensureAgentAMIImage(options: { agentdBundlePath: string; nodeBinaryPath: string }): Promise<boolean> {
  const plain = await imageID(plainAMIImage);
  const node = statSync(options.nodeBinaryPath);
  const key = createHash("sha256")
    .update(plain)
    .update(readFileSync(options.agentdBundlePath))
    .update(`${options.nodeBinaryPath}:${node.size}:${node.mtimeMs}`)
    .digest("hex")
    .slice(0, 16);
  const tag = `${agentAMIImage.split(":")[0]}:${key}`;
  if ((await imageLabels(tag))?.["ciab.ami-agent"] === key) {
    agentImageOfThisRun = tag;
    // The shared name, for runs that boot the agent AMI without making sure of it first.
    await docker(["tag", tag, agentAMIImage]);
    return false;
  }
  const stage = makeTempDirectory("ciab-ami-agent-");
  const builder = `ciab-ami-agent-build-${process.pid}-${Date.now()}`;
  try {
    const bin = path.join(stage.path, "ciab", "bin");
    mkdirSync(bin, { recursive: true });
    copyFileSync(options.nodeBinaryPath, path.join(bin, "node"));
    copyFileSync(options.agentdBundlePath, path.join(bin, "ciab-agentd.js"));
    // The bundle is an ES module; this makes `node ciab-agentd.js` load it as one.
    writeFileSync(path.join(bin, "package.json"), '{ "type": "module" }\n');
    await docker(["create", "--name", builder, plainAMIImage]);
    await docker(["cp", path.join(stage.path, "ciab"), `${builder}:/opt/ciab`], { timeoutMs: 120_000 });
    await docker(["commit", "--change", `LABEL ciab.ami-agent=${key}`, builder, tag], { timeoutMs: 120_000 });
    await docker(["tag", tag, agentAMIImage]);
    agentImageOfThisRun = tag;
    return true;
  } finally {
    await docker(["rm", "-f", builder]).catch(() => undefined);
    stage.remove();
  }
}

async function imageID(image: string): Promise<string> {
  await assertPlainAMIImagePresent();
  const { stdout } = await docker(["image", "inspect", "--format", "{{ .Id }}", image]);
  return stdout.trim();
}
