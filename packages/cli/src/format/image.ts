import type { Image, ImageBuild } from "@ciab/sdk";
import { formatFields, formatTable } from "./table.js";

export function formatImageTable(images: readonly Image[]): string {
  if (images.length === 0) return "no images";
  return formatTable(
    ["ID", "RUNTIME", "PROVIDER", "REGION", "REFERENCE", "CREATED"],
    images.map((image) => [image.id, image.runtime, image.provider, image.region ?? "-", image.reference, image.created_at]),
  );
}

export function formatBuild(build: ImageBuild): string {
  return formatFields([
    ["id", build.id],
    ["state", build.state],
    ["runtime", build.runtime],
    ["provider", build.provider],
    ["region", build.region ?? "-"],
    ["template", build.template],
    ["step", build.step ?? "-"],
    ["image", build.image_id ?? "-"],
    ...(build.error !== null ? ([["error", build.error]] as const) : []),
    ["created", build.created_at],
    ["finished", build.finished_at ?? "-"],
  ]);
}

/** One line for a terminal's progress bar: `[#####-----]  50%  building: Launching a source AWS instance`. */
export function formatBuildProgress(build: ImageBuild, width = 20): string {
  const percent = build.state === "succeeded" ? 100 : (build.percent ?? 0);
  const filled = Math.round((Math.max(0, Math.min(100, percent)) / 100) * width);
  const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
  return `${bar} ${String(percent).padStart(3)}%  ${build.state}${build.step ? `: ${build.step}` : ""}`;
}

/** `--var k=v` pairs into a record; a pair without `=` or with a bad name is a usage error. */
export function parseVars(pairs: readonly string[]): Record<string, string> | string {
  const vars: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf("=");
    if (equals <= 0) return `--var ${pair}: expected key=value`;
    const key = pair.slice(0, equals);
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return `--var ${pair}: ${key} is not a variable name`;
    vars[key] = pair.slice(equals + 1);
  }
  return vars;
}
