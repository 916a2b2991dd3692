// `npm run bench -- NAME [NAME…]`: runs bench/NAME.bench.ts (all of them without a name) through tsx.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const available = readdirSync(path.join(root, "bench"))
  .filter((file) => file.endsWith(".bench.ts"))
  .map((file) => file.replace(/\.bench\.ts$/, ""));
const names = process.argv.slice(2);
for (const name of names.length ? names : available) {
  if (!available.includes(name)) {
    console.error(`no benchmark ${name}; available: ${available.join(", ")}`);
    process.exit(2);
  }
  const result = spawnSync(process.execPath, ["--import", "tsx", path.join(root, "bench", `${name}.bench.ts`)], {
    stdio: "inherit",
    cwd: root,
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
