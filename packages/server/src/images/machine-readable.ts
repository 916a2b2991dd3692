/**
 * Packer's `-machine-readable` output: one record a line, `timestamp,target,type,data…`, commas inside data
 * written as `%!(PACKER_COMMA)` and newlines as `\n`. Packer's output comes from templates and build
 * machines we do not trust, so every field is bounded and nothing here decides more than progress text.
 */
export interface MachineRecord {
  timestamp: number;
  target: string;
  type: string;
  data: string[];
}

const maxLineChars = 64 * 1024;

export function parseMachineLine(line: string): MachineRecord | undefined {
  const fields = line.slice(0, maxLineChars).split(",");
  if (fields.length < 3 || !/^\d+$/.test(fields[0]!)) return undefined;
  return {
    timestamp: Number(fields[0]),
    target: fields[1]!,
    type: fields[2]!,
    data: fields.slice(3).map((field) => field.replaceAll("%!(PACKER_COMMA)", ",").replaceAll("\\n", "\n").replaceAll("\\r", "\r")),
  };
}

export interface BuildProgress {
  /** Step messages (`==> docker.default: Committing the container`), in order, the last one current. */
  steps: string[];
  /** Where Packer reports a percentage (uploads, AMI copies), the last one seen. */
  percent: number | undefined;
  /** Artifact ids by builder or post-processor: `us-east-1:ami-…`, `sha256:…`, `repo:tag`. */
  artifacts: Array<{ builderID: string; id: string }>;
  /** Packer's own error messages. */
  errors: string[];
}

const maxSteps = 200;
const maxErrors = 20;

export function emptyProgress(): BuildProgress {
  return { steps: [], percent: undefined, artifacts: [], errors: [] };
}

/** Folds one record into the progress; returns the human line to show in the log, if any. */
export function applyRecord(progress: BuildProgress, record: MachineRecord): string | undefined {
  if (record.type === "ui") {
    const [kind = "", text = ""] = record.data;
    const message = text.replace(/^\n+/, "");
    if (kind === "say" && message.startsWith("==> ")) {
      progress.steps.push(message.slice(4).slice(0, 500));
      if (progress.steps.length > maxSteps) progress.steps.shift();
    }
    if (kind === "error" && progress.errors.length < maxErrors) progress.errors.push(message.slice(0, 4000));
    const percent = message.match(/(\d{1,3})%/);
    if (percent && Number(percent[1]) <= 100) progress.percent = Number(percent[1]);
    return message;
  }
  if (record.type === "artifact") {
    const [index = "", key = "", value = ""] = record.data;
    if (!/^\d+$/.test(index)) return undefined;
    const slot = Number(index);
    if (slot > 32) return undefined;
    progress.artifacts[slot] ??= { builderID: "", id: "" };
    if (key === "builder-id") progress.artifacts[slot]!.builderID = value.slice(0, 200);
    if (key === "id") progress.artifacts[slot]!.id = value.slice(0, 4000);
    return undefined;
  }
  if (record.type === "error" && progress.errors.length < maxErrors) {
    progress.errors.push((record.data.at(-1) ?? "").slice(0, 4000));
  }
  return undefined;
}

/** `us-east-1:ami-1,eu-west-1:ami-2` (amazon-ebs) → one entry per region. */
export function amiIDsByRegion(artifactID: string): Array<{ region: string; amiID: string }> {
  return artifactID
    .split(",")
    .map((part) => part.trim().match(/^([a-z]{2}(?:-[a-z]+)+-\d):(ami-[0-9a-f]{8,17})$/))
    .filter((match): match is RegExpMatchArray => match !== null)
    .map((match) => ({ region: match[1]!, amiID: match[2]! }));
}
