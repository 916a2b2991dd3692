// Bundles ciab-agentd into one file that any sandbox runs with a plain `node`.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { chmodSync, writeFileSync } from "node:fs";

const packageDirectory = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const agentdBundlePath = path.join(packageDirectory, "dist", "agentd.mjs");
/** Beside the bundle: the in-sandbox `ciab-artifact` command and the profile.d snippet that keeps /opt/ciab on PATH. */
export const artifactCommandPath = path.join(packageDirectory, "dist", "ciab-artifact");
export const profileSnippetPath = path.join(packageDirectory, "dist", "ciab-path.sh");

// /etc/profile resets PATH for login shells (`bash -lc`); this puts the machine's tools back in front.
const profileSnippet = `case ":$PATH:" in *:/opt/ciab/bin:*) ;; *) PATH="/opt/ciab/tools/node_modules/.bin:/opt/ciab/bin:$PATH"; export PATH ;; esac
`;

export async function bundleAgentd() {
  await build({
    entryPoints: [path.join(packageDirectory, "src", "main.ts")],
    outfile: agentdBundlePath,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    minify: false,
    sourcemap: false,
    logLevel: "warning",
    // ws is CommonJS and requires node's modules; an ES module bundle needs a real `require` for that.
    banner: { js: 'import { createRequire as __ciabCreateRequire } from "node:module"; const require = __ciabCreateRequire(import.meta.url);' },
  });
  await build({
    entryPoints: [path.join(packageDirectory, "src", "commands", "ciab-artifact.ts")],
    outfile: artifactCommandPath,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    banner: { js: "#!/opt/ciab/node" },
    logLevel: "warning",
  });
  chmodSync(artifactCommandPath, 0o755);
  writeFileSync(profileSnippetPath, profileSnippet, { mode: 0o644 });
  return agentdBundlePath;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundleAgentd();
  console.log(agentdBundlePath);
}
