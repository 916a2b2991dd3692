import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { amiIDsByRegion, applyRecord, emptyProgress, parseMachineLine } from "./machine-readable.js";

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "__fixtures__");

function replay(name: string) {
  const progress = emptyProgress();
  const lines: string[] = [];
  for (const line of readFileSync(path.join(fixtures, name), "utf8").split("\n")) {
    const record = parseMachineLine(line);
    if (!record) continue;
    const text = applyRecord(progress, record);
    if (text !== undefined) lines.push(text);
  }
  return { progress, lines };
}

describe("Packer's -machine-readable output", () => {
  test("a docker build: steps, the imported image and its tag", () => {
    const { progress, lines } = replay("docker-build.machine-readable.log");
    expect(progress.steps).toContain("docker.default: Committing the container");
    expect(progress.artifacts).toEqual([
      { builderID: "packer.post-processor.docker-import", id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
      { builderID: "packer.post-processor.docker-tag", id: "ciab/agent:t1" },
    ]);
    // Commas come back from %!(PACKER_COMMA).
    expect(lines.some((line) => line.includes("In future versions of Packer, this configuration"))).toBe(true);
  });

  test("an amazon-ebs build against moto: the AMI per region", () => {
    const { progress } = replay("amazon-ebs-build.machine-readable.log");
    expect(progress.steps).toContain("amazon-ebs.default: Connected to SSH!");
    expect(progress.artifacts).toEqual([{ builderID: "mitchellh.amazonebs", id: "us-east-1:ami-1bb4ef7077297a256" }]);
    expect(amiIDsByRegion(progress.artifacts[0]!.id)).toEqual([{ region: "us-east-1", amiID: "ami-1bb4ef7077297a256" }]);
  });

  test("a failed amazon-ebs build keeps Packer's error", () => {
    const { progress } = replay("amazon-ebs-copy-failed.machine-readable.log");
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
