// A smoke test of the ec2 runtime against a real AWS account (or any EC2 endpoint, moto included):
// starts a control plane in a temp dir, creates a sandbox on ec2, runs `uname -a` in it, deletes it, and
// checks that no instance tagged with the sandbox's id is left. Exits 0 with a message, doing nothing, when
// the AWS SDK's credential chain finds no credentials.
//
//   node --import tsx scripts/smoke-ec2.ts
//
// What it reads (all optional but the credentials):
//   AWS_PROFILE / AWS_ACCESS_KEY_ID…, AWS_REGION   the account and region (the SDK's usual chain)
//   CIAB_EC2_* and CIAB_RUNTIME_EC2_*               the same settings as the server: subnet, security groups,
//                                                  AMI, instance type, key pair, bastion, endpoint
//   CIAB_SERVER_PUBLIC_URL                          needed unless CIAB_EC2_AMI_ID is a `ciab-agent-*` AMI:
//                                                  a plain Ubuntu AMI downloads node and agentd from here
//   CIAB_SMOKE_TIMEOUT_SECONDS                      the whole run (default 600)
//
// The control plane must reach the instance's SSH port: a subnet with public IPs and a security group that
// lets this host in on 22, or a bastion (`CIAB_RUNTIME_EC2_BASTION_HOST`…). The instance costs a few
// minutes of the chosen type. Instance metadata is not asked for credentials unless
// AWS_EC2_METADATA_DISABLED=false is set (on an EC2 host with a role, set it).
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { Ciab } from "../packages/sdk/src/index.js";
import { startServer } from "../packages/server/src/index.js";
import { createLogger } from "../packages/server/src/logger.js";
import { makeTempDirectory } from "../test/harness/temp-directory.js";

process.env.AWS_EC2_METADATA_DISABLED ??= "true";
const region = process.env.CIAB_RUNTIME_EC2_REGION ?? process.env.AWS_REGION ?? "us-east-1";
const endpoint = process.env.CIAB_EC2_ENDPOINT ?? process.env.CIAB_RUNTIME_EC2_ENDPOINT;
const timeoutMs = Number(process.env.CIAB_SMOKE_TIMEOUT_SECONDS ?? "600") * 1000;

const ec2 = new EC2Client({ region, ...(endpoint !== undefined && { endpoint }) });
try {
  const credentials = await ec2.config.credentials();
  if (!credentials.accessKeyId) throw new Error("empty access key id");
} catch (error) {
  console.log(`smoke-ec2: skipped, no AWS credentials found (${(error as Error).message.split("\n")[0]})`);
  ec2.destroy();
  process.exit(0);
}

const data = makeTempDirectory("ciab-smoke-ec2-");
const server = await startServer({
  port: 0,
  dataDirectory: data.path,
  env: { ...process.env, CIAB_RUNTIME: "ec2", CIAB_RUNTIME_EC2_REGION: region },
  logger: createLogger(process.env.CIAB_SERVER_LOG_LEVEL ?? "warn"),
});
const token = (await import("node:fs")).readFileSync(`${data.path}/admin-token`, "utf8").trim();
const ciab = new Ciab({ url: server.url, token });
const signal = AbortSignal.timeout(timeoutMs);
let failed = false;
let sandboxID: string | undefined;
try {
  console.log(`smoke-ec2: creating a sandbox on ec2 in ${region}${endpoint ? ` (endpoint ${endpoint})` : ""}`);
  const started = performance.now();
  const sandbox = await ciab.sandboxes.create({ runtime: "ec2" }, { signal });
  sandboxID = sandbox.id;
  console.log(`smoke-ec2: ${sandbox.id} ready in ${Math.round(performance.now() - started)} ms`);
  const result = await sandbox.commands.run(["uname", "-a"], { signal });
  console.log(`smoke-ec2: uname -a: ${result.stdout.trim()} (exit ${result.exit_code})`);
  if (result.exit_code !== 0) failed = true;
  await sandbox.delete({ signal });
  console.log(`smoke-ec2: ${sandbox.id} deleted`);
} catch (error) {
  failed = true;
  console.error(`smoke-ec2: failed: ${(error as Error).message}`);
  if (sandboxID) await ciab.sandboxes.delete(sandboxID).catch(() => undefined);
} finally {
  await server.close();
}

if (sandboxID) {
  const output = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: "tag:ciab-sandbox-id", Values: [sandboxID] },
        { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped"] },
      ],
    }),
  );
  const left = (output.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []).map((instance) => instance.InstanceId);
  if (left.length > 0) {
    failed = true;
    console.error(`smoke-ec2: instances left with tag ciab-sandbox-id=${sandboxID}: ${left.join(", ")}; terminate them by hand`);
  } else {
    console.log(`smoke-ec2: no instance left with tag ciab-sandbox-id=${sandboxID}`);
  }
}
ec2.destroy();
data.remove();
console.log(failed ? "smoke-ec2: FAILED" : "smoke-ec2: ok");
process.exit(failed ? 1 : 0);
