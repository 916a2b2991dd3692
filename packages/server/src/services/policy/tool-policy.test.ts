import { describe, expect, test } from "vitest";
import { createToolPolicy } from "./tool-policy.js";

describe("tool policy", () => {
  const policy = createToolPolicy([
    { tool: "write_file", outside: "/workspace", action: "approval" },
    { tool: "shell", inside: "/etc", action: "deny" },
  ]);

  test("writes inside the work dir pass, outside wait for approval", () => {
    expect(policy.decide("write_file", { path: "src/a.ts" }).action).toBe("allow");
    expect(policy.decide("write_file", { path: "/workspace/a" }).action).toBe("allow");
    expect(policy.decide("write_file", { path: "/etc/hosts" }).action).toBe("approval");
    expect(policy.decide("write_file", { path: "/workspace-other/a" }).action).toBe("approval");
  });

  test("`..` is folded before the rule looks", () => {
    expect(policy.decide("write_file", { path: "/workspace/../etc/passwd" }).action).toBe("approval");
    expect(policy.decide("write_file", { path: "../../etc/passwd" }).action).toBe("approval");
    expect(policy.decide("write_file", { path: "a/../b" }).action).toBe("allow");
  });

  test("rules match by tool name and cwd", () => {
    expect(policy.decide("read_file", { path: "/etc/passwd" }).action).toBe("allow");
    expect(policy.decide("shell", { cmd: "ls", cwd: "/etc" }).action).toBe("deny");
    expect(policy.decide("shell", { cmd: "ls" }).action).toBe("allow");
  });
});
