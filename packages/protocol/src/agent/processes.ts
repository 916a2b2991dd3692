/** Background processes: started, listed, signalled, their output replayed and followed. */
export interface StartProcessRequest {
  command: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** A label of the caller's, returned in listings. */
  tag?: string;
}

export interface ProcessInfo {
  /** The process id inside the sandbox. */
  pid: number;
  command: string[];
  cwd: string;
  tag?: string;
  startedAt: string;
  running: boolean;
  exitCode: number | null;
  signal: string | null;
}

export interface SignalRequest {
  signal: "SIGTERM" | "SIGKILL" | "SIGINT" | "SIGHUP" | "SIGSTOP" | "SIGCONT" | "SIGUSR1" | "SIGUSR2";
}

/** Output kept per process for replay; older output is dropped first. */
export const processReplayLimitBytes = 1024 * 1024;
