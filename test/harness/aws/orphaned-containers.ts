import { docker } from "./docker-cli.js";

/** Containers of players whose process died without close() (a killed test run) would run forever. */
export async function removeOrphanedContainers(): Promise<void> {
  const { stdout } = await docker(["ps", "--all", "--filter", "label=ciab.harness=instance-player", "--format", '{{ .ID }} {{ .Label "ciab.player-pid" }}']);
  const orphans = stdout
    .split("\n")
    .map((line) => line.trim().split(" "))
    .filter(([id, pid]) => id && !processAlive(Number(pid)))
    .map(([id]) => id!);
  if (orphans.length > 0) await docker(["rm", "--force", "--volumes", ...orphans]).catch(() => undefined);
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
