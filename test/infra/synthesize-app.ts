import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Template } from "aws-cdk-lib/assertions";

const repositoryRoot = path.resolve(import.meta.dirname, "../..");

export interface SynthesizedApp {
  outdir: string;
  template(stackName: string): Template;
  /** The `aws://account/region` a stack deploys to, from the cloud assembly's manifest. */
  environment(stackName: string): string;
}

/**
 * Runs the app's entry point (infra/src/main.ts, as `cdk synth` does) in a child process: synthesis with
 * bundling is synchronous for tens of seconds, which would stall the test worker's own messages.
 */
export async function synthesizeApp(context: Record<string, unknown>, signal?: AbortSignal): Promise<SynthesizedApp> {
  const outdir = mkdtempSync(path.join(tmpdir(), "ciab-synth-"));
  await promisify(execFile)(path.join(repositoryRoot, "node_modules/.bin/tsx"), [path.join(repositoryRoot, "infra/src/main.ts")], {
    cwd: path.join(repositoryRoot, "infra"),
    env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 170_000,
    signal,
  });
  const manifest = JSON.parse(readFileSync(path.join(outdir, "manifest.json"), "utf8")) as { artifacts: Record<string, { environment?: string }> };
  return {
    outdir,
    template: (stackName) => Template.fromJSON(JSON.parse(readFileSync(path.join(outdir, `${stackName}.template.json`), "utf8")) as Record<string, unknown>),
    environment: (stackName) => manifest.artifacts[stackName]?.environment ?? "",
  };
}
