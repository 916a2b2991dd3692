import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second as /proc/<pid>/stat counts them (USER_HZ, 100 on Linux). */
const ticksPerSecond = 100;

/**
 * CPU time (user + system, ms, 10 ms steps) used so far by the process run by `program` (its argv[0]
 * ends so) whose arguments hold every one of `words`, or undefined when there is none (not Linux, or it
 * exited): lets a benchmark say which process its time went to, e.g. agentd against the control plane.
 * Matching argv[0] skips the jail's wrapper (bwrap), whose arguments hold the same words.
 */
export function cpuMsOf(program: string, ...words: string[]): (() => number) | undefined {
  const pid = readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .find((entry) => {
      try {
        const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
        return argv[0]!.endsWith(program) && words.every((word) => argv.some((argument) => argument.includes(word)));
      } catch {
        return false;
      }
    });
  if (pid === undefined) return undefined;
  return () => {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  };
}

/** The control plane's own CPU time so far in ms (it runs in the benchmark's process). */
export function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}
