import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { makeTempDirectory } from "../harness/temp-directory.js";

/** A real git repository on disk with `main` and a `feature` branch, for sessions to clone. */
export function makeGitRepo(): { url: string; featureCommit: string; remove(): void } {
  const directory = makeTempDirectory("ciab-repo-");
  const git = (...args: string[]) =>
    execFileSync("git", args, {
      cwd: directory.path,
      encoding: "utf8",
      env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@e", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@e" },
    }).trim();
  git("init", "-q", "-b", "main");
  writeFileSync(path.join(directory.path, "README.md"), "on main\n");
  git("add", ".");
  git("commit", "-q", "-m", "main");
  git("checkout", "-q", "-b", "feature");
  writeFileSync(path.join(directory.path, "README.md"), "on feature\n");
  git("commit", "-q", "-am", "feature");
  const featureCommit = git("rev-parse", "HEAD");
  git("checkout", "-q", "main");
  return { url: directory.path, featureCommit, remove: directory.remove };
}
