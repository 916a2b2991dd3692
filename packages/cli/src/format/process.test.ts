import type { ProcessBody } from "@ciab/protocol";
import { describe, expect, it } from "vitest";
import { formatProcessTable } from "./process.js";

const now = Date.parse("2025-01-01T00:01:00.000Z");
const base: ProcessBody = {
  pid: 42,
  command: ["/bin/sh", "-c", "sleep 100"],
  cwd: "/workspace",
  started_at: "2025-01-01T00:00:00.000Z",
  running: true,
  exit_code: null,
  signal: null,
};

describe("formatProcessTable", () => {
  it("shows pid, state, age and the command, a shell script as the script", () => {
    const exited: ProcessBody = { ...base, pid: 7, command: ["python3", "-m", "http.server"], running: false, exit_code: 3, tag: "web" };
    expect(formatProcessTable([base, exited], now)).toBe(
      [
        "PID  STATE     STARTED  TTY  TAG  COMMAND",
        "42   running   1m ago             sleep 100",
        "7    exited 3  1m ago        web  python3 -m http.server",
      ].join("\n"),
    );
  });

  it("says so when there are none", () => {
    expect(formatProcessTable([], now)).toBe("no processes");
  });
});
