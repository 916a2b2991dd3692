import { describe, expect, test } from "vitest";
import { amiIDsByRegion, applyRecord, emptyProgress, parseMachineLine } from "./machine-readable.js";

/**
 * Excerpts in Packer 1.6.6's `-machine-readable` shape (`timestamp,target,type,data…`, commas in data written
 * `%!(PACKER_COMMA)`); the end-to-end tests under test/images parse whole real builds.
 */
const dockerBuild = [
  "1764120000,,ui,say,==> docker.default: Creating a temporary directory for sharing data...",
  "1764120001,,ui,say,==> docker.default: Starting docker container...",
  "1764120002,,ui,message,    docker.default: In future versions of Packer%!(PACKER_COMMA) this configuration will change",
  "1764120010,,ui,say,==> docker.default: Committing the container",
  "1764120011,,ui,say,==> docker.default: Running post-processor: docker-tag",
  "1764120012,docker.default,artifact-count,2",
  "1764120012,docker.default,artifact,0,builder-id,packer.post-processor.docker-import",
  `1764120012,docker.default,artifact,0,id,sha256:${"ab".repeat(32)}`,
  "1764120012,docker.default,artifact,0,end",
  "1764120012,docker.default,artifact,1,builder-id,packer.post-processor.docker-tag",
  "1764120012,docker.default,artifact,1,id,ciab/agent:t1",
  "1764120012,docker.default,artifact,1,end",
];
const amazonBuild = [
  "1764120100,,ui,say,==> amazon-ebs.default: Waiting for SSH to become available...",
  "1764120110,,ui,say,==> amazon-ebs.default: Connected to SSH!",
  "1764120120,,ui,say,==> amazon-ebs.default: Creating AMI ciab-agent-claude-code-bld_x from instance i-0123456789abcdef0",
  "1764120130,amazon-ebs.default,artifact-count,1",
  "1764120130,amazon-ebs.default,artifact,0,builder-id,mitchellh.amazonebs",
  "1764120130,amazon-ebs.default,artifact,0,id,us-east-1:ami-1bb4ef7077297a256",
  "1764120130,amazon-ebs.default,artifact,0,end",
];
const amazonCopyFailed = [
  "1764120200,,ui,say,==> amazon-ebs.default: Copying/Encrypting AMI (ami-1bb4ef7077297a256) to other regions...",
  "1764120201,,ui,error,==> amazon-ebs.default: 1 error(s) occurred:\\n\\n* Error Copying AMI (ami-1bb4ef7077297a256) to region (eu-west-1): InternalFailure",
  "1764120202,,error,Build 'amazon-ebs.default' errored: 1 error(s) occurred:\\n\\n* Error Copying AMI (ami-1bb4ef7077297a256) to region (eu-west-1): InternalFailure",
];

function replay(output: string[]) {
  const progress = emptyProgress();
  const lines: string[] = [];
  for (const line of output) {
    const record = parseMachineLine(line);
    if (!record) continue;
    const text = applyRecord(progress, record);
    if (text !== undefined) lines.push(text);
  }
  return { progress, lines };
}

describe("Packer's -machine-readable output", () => {
  test("a docker build: steps, the imported image and its tag", () => {
    const { progress, lines } = replay(dockerBuild);
    expect(progress.steps).toContain("docker.default: Committing the container");
    expect(progress.artifacts).toEqual([
      { builderID: "packer.post-processor.docker-import", id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
      { builderID: "packer.post-processor.docker-tag", id: "ciab/agent:t1" },
    ]);
    // Commas come back from %!(PACKER_COMMA).
    expect(lines.some((line) => line.includes("In future versions of Packer, this configuration"))).toBe(true);
  });

  test("an amazon-ebs build against moto: the AMI per region", () => {
    const { progress } = replay(amazonBuild);
    expect(progress.steps).toContain("amazon-ebs.default: Connected to SSH!");
    expect(progress.artifacts).toEqual([{ builderID: "mitchellh.amazonebs", id: "us-east-1:ami-1bb4ef7077297a256" }]);
    expect(amiIDsByRegion(progress.artifacts[0]!.id)).toEqual([{ region: "us-east-1", amiID: "ami-1bb4ef7077297a256" }]);
  });

  test("a failed amazon-ebs build keeps Packer's error", () => {
    const { progress } = replay(amazonCopyFailed);
    expect(progress.artifacts).toEqual([]);
    expect(progress.errors.join("\n")).toMatch(/Error Copying AMI \(ami-[0-9a-f]+\) to region \(eu-west-1\)/);
  });

  test("bounded and hostile lines", () => {
    expect(parseMachineLine("not a record")).toBeUndefined();
    expect(parseMachineLine("12,,ui")).toEqual({ timestamp: 12, target: "", type: "ui", data: [] });
    const progress = emptyProgress();
    applyRecord(progress, parseMachineLine(`1,,artifact,99999,id,x`)!);
    applyRecord(progress, parseMachineLine(`1,,ui,say,==> ${"x".repeat(100_000)}`)!);
    expect(progress.artifacts).toEqual([]);
    expect(progress.steps[0]!.length).toBeLessThanOrEqual(500);
    expect(amiIDsByRegion("us-east-1:ami-12345678,eu-west-1:ami-0123456789abcdef0,junk")).toHaveLength(2);
    expect(amiIDsByRegion("us-east-1:ami-12;rm -rf")).toEqual([]);
  });
});
