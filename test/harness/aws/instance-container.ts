import { docker, DockerCommandError } from "./docker-cli.js";
import { loopMajor } from "./volume-player.js";

/**
 * /etc/fstab as systemd mounts it at boot: each entry waits for its device up to its
 * `x-systemd.device-timeout` (90 s by default), then mounts; a `nofail` entry that fails does not fail the
 * boot. Run before the enabled units, as `x-systemd.before=` orders a mount before the unit it names.
 */
const fstabMounts = String.raw`
status=0
while read -r device target type options rest; do
  case "$device" in ''|'#'*) continue ;; esac
  [ "$target" = / ] || [ "$target" = none ] || [ "$type" = swap ] && continue
  mountpoint -q "$target" && continue
  limit=$(printf '%s' "$options" | sed -n 's/.*x-systemd.device-timeout=\([0-9]*\).*/\1/p')
  tries=0
  while [ ! -e "$device" ] && [ "$tries" -lt "$(( ${"${limit:-90}"} * 5 ))" ]; do sleep 0.2; tries=$((tries + 1)); done
  mkdir -p "$target"
  mount "$target" || case ",$options," in *,nofail,*) ;; *) status=1 ;; esac
done < /etc/fstab
exit $status
`;

/** The cloud-init stages a booting instance runs, in order, as systemd would run cloud-init's units. */
export const bootStages = [
  { name: "init-local", command: ["cloud-init", "init", "--local"] },
  { name: "init", command: ["cloud-init", "init"] },
  { name: "modules-config", command: ["cloud-init", "modules", "--mode=config"] },
  { name: "fstab", command: ["sh", "-c", fstabMounts] },
  // Units enabled on an earlier boot start with multi-user.target, before cloud-final.
  { name: "enabled-units", command: ["systemctl", "boot"] },
  { name: "modules-final", command: ["cloud-init", "modules", "--mode=final"] },
] as const;

export type BootStageName = (typeof bootStages)[number]["name"];

export interface BootStageResult {
  name: BootStageName;
  exitCode: number;
  milliseconds: number;
  /** The stage's last output, for a test's failure message. */
  outputTail: string;
}

export interface BootRecord {
  /** 1 for the first boot; a StartInstances after a stop boots again. */
  number: number;
  /** From `docker start` (or run) returning to the last stage's end. */
  milliseconds: number;
  stages: BootStageResult[];
}

export interface InstanceSeed {
  instanceID: string;
  hostname: string;
  /** The instance's user-data as EC2 holds it (decoded from base64), or empty. */
  userData: Buffer;
  /** The public key of the instance's AWS key pair (`KeyName`), which EC2's metadata hands cloud-init. */
  publicKeys: string[];
}

const stageTimeoutMs = 300_000;
const outputTailBytes = 2_000;

/** One emulated instance's container: made, booted, stopped and removed with the docker CLI. */
export class InstanceContainer {
  constructor(
    readonly name: string,
    private readonly image: string,
    private readonly labels: Record<string, string>,
  ) {}

  /** Creates the container on its first boot, starts it, writes the NoCloud seed and runs the stages. */
  async boot(seed: InstanceSeed, number: number, signal: AbortSignal, onStage?: (stage: BootStageResult) => void): Promise<BootRecord> {
    const began = performance.now();
    if (await this.exists(signal)) await docker(["start", this.name], { signal });
    else await this.create(seed.hostname, signal);
    await this.writeSeed(seed, signal);
    const stages: BootStageResult[] = [];
    for (const stage of bootStages) {
      const stageBegan = performance.now();
      const result = await this.execute(stage.command, signal);
      const record = { name: stage.name, ...result, milliseconds: Math.round(performance.now() - stageBegan) };
      stages.push(record);
      onStage?.(record);
    }
    return { number, milliseconds: Math.round(performance.now() - began), stages };
  }

  /** Shuts down as a stopping instance does: services get SIGTERM and a moment to finish, then the machine ends. */
  async stop(): Promise<void> {
    await docker(["exec", this.name, "systemctl", "poweroff"], { timeoutMs: 15_000 }).catch(() => undefined);
    await docker(["stop", "--time", "5", this.name], { timeoutMs: 30_000 }).catch(unlessMissing);
  }

  async remove(): Promise<void> {
    await docker(["rm", "--force", "--volumes", this.name], { timeoutMs: 30_000 }).catch(unlessMissing);
  }

  private async exists(signal: AbortSignal): Promise<boolean> {
    try {
      await docker(["container", "inspect", "--format", "{{ .Id }}", this.name], { signal });
      return true;
    } catch (error) {
      if (signal.aborted) throw error;
      unlessMissing(error as Error);
      return false;
    }
  }

  private async create(hostname: string, signal: AbortSignal): Promise<void> {
    const labels = Object.entries(this.labels).flatMap(([key, value]) => ["--label", `${key}=${value}`]);
    await docker(
      [
        "run", "--detach", "--name", this.name, "--hostname", hostname, ...labels,
        // tini as PID 1 reaps the services the systemctl stand-in detaches.
        "--init",
        // The host's loopback is the instance's way to the control plane; sshd listens on no port (bastion.ts).
        "--network", "host",
        // A fresh /run at every boot, as on a machine: stale pids and sockets go with a stop.
        "--tmpfs", "/run:rw,nosuid,nodev,exec,mode=755,size=64m",
        "--memory", "2g", "--pids-limit", "2048",
        // An instance's root mounts its EBS volumes: the volume player makes loop devices appear as /dev/xvdX.
        "--cap-add", "SYS_ADMIN", "--device-cgroup-rule", `b ${loopMajor}:* rwm`,
        this.image,
      ],
      { signal },
    );
  }

  private async writeSeed(seed: InstanceSeed, signal: AbortSignal): Promise<void> {
    const directory = "/var/lib/cloud/seed/nocloud";
    // JSON strings are YAML strings: a key's text cannot break out of its list item.
    const keys = seed.publicKeys.map((key) => `  - ${JSON.stringify(key)}\n`).join("");
    const metaData = `instance-id: ${seed.instanceID}\nlocal-hostname: ${seed.hostname}\n${keys && `public-keys:\n${keys}`}`;
    await docker(["exec", "-i", this.name, "sh", "-c", `mkdir -p ${directory} && cat > ${directory}/meta-data`], { input: metaData, signal });
    await docker(["exec", "-i", this.name, "sh", "-c", `cat > ${directory}/user-data`], { input: seed.userData, signal });
  }

  private async execute(command: readonly string[], signal: AbortSignal): Promise<{ exitCode: number; outputTail: string }> {
    try {
      const { stdout, stderr } = await docker(["exec", this.name, ...command], { signal, timeoutMs: stageTimeoutMs });
      return { exitCode: 0, outputTail: (stdout + stderr).slice(-outputTailBytes) };
    } catch (error) {
      if (signal.aborted || !(error instanceof DockerCommandError)) throw error;
      const { stdout, stderr } = error.result;
      return { exitCode: error.exitCode ?? -1, outputTail: (stdout + stderr).slice(-outputTailBytes) || error.message };
    }
  }
}

function unlessMissing(error: Error): void {
  if (!/No such (container|object)/i.test(error.message)) throw error;
}
