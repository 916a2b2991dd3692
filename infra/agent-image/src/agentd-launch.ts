import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ChannelSettings } from "./job-settings.js";
import { SupervisedChild } from "./supervised-child.js";

export interface AgentdLauncherOptions {
  channel: ChannelSettings;
  /** agentd's files: its socket, the one-time token, the channel secret it is handed, its process output. */
  runDirectory: string;
  agentdPath: string;
  env: NodeJS.ProcessEnv;
  log: (message: string) => void;
}

const restartDelayMs = 2_000;

/**
 * Keeps ciab-agentd running beside the agent so the control plane can exec, read files and attach over the
 * reverse channel. The token goes to a 0600 file, never onto agentd's command line or into anyone's env.
 */
export function launchAgentd(options: AgentdLauncherOptions): { stop(graceSeconds: number): void } {
  const channelDirectory = path.join(options.runDirectory, "channel");
  mkdirSync(channelDirectory, { recursive: true, mode: 0o700 });
  const tokenFile = path.join(channelDirectory, "token");
  writeFileSync(tokenFile, options.channel.token, { mode: 0o600 });
  const argv = [
    options.agentdPath,
    "--socket", path.join(options.runDirectory, "agentd.sock"),
    "--workspace-root", process.cwd(),
    "--state-dir", path.join(options.runDirectory, "agentd-state"),
    "--channel-url", options.channel.url,
    "--channel-token-file", tokenFile,
    "--channel-secret-file", path.join(channelDirectory, "secret"),
  ];
  if (options.channel.sandboxID !== undefined) argv.push("--sandbox-id", options.channel.sandboxID);
  let current: SupervisedChild | undefined;
  let stopped = false;
  const start = (): void => {
    current = new SupervisedChild(process.execPath, argv, { env: options.env, stdio: ["ignore", "inherit", "inherit"] });
    current.exited.then(
      (exit) => {
        if (stopped) return;
        options.log(`ciab-agentd exited (${exit.code ?? exit.signal}); starting it again`);
        setTimeout(start, restartDelayMs).unref();
      },
      (error: Error) => options.log(`ciab-agentd did not start: ${error.message}`),
    );
  };
  start();
  return {
    stop(graceSeconds) {
      stopped = true;
      current?.stop(graceSeconds);
    },
  };
}
