import { expect, test } from "vitest";
import { sandboxLifecycleSuite } from "./sandbox-lifecycle-suite.js";

sandboxLifecycleSuite("local", (context) => {
  test("the jail shows no home dirs, credentials or data dir", async () => {
    const { sandbox, server } = context();
    const probe = await sandbox.commands.run([
      "sh",
      "-c",
      `for p in /root /home /etc/shadow /etc/gshadow "${server.dataDirectory}"; do [ -e "$p" ] && echo "visible $p"; done; id -u; hostname`,
    ]);
    expect(probe.stdout).not.toContain("visible");
    expect(probe.stdout).toContain("ciab-");
    const write = await sandbox.commands.run(["sh", "-c", "touch /usr/ciab-probe 2>&1; echo $?"]);
    expect(write.stdout.trim().split("\n").at(-1)).not.toBe("0");
  });

  test("sysctls are read-only: root in the jail cannot reach the host kernel's settings", async () => {
    const { sandbox } = context();
    // Checked with access(), never a write: a failing test must not change the host.
    const probe = await sandbox.commands.run(["sh", "-c", "test -w /proc/sys/kernel/core_pattern && echo writable || echo read-only"]);
    expect(probe.stdout).toBe("read-only\n");
  });

  test("pid namespace: the jail sees only its own processes", async () => {
    const { sandbox } = context();
    const count = await sandbox.commands.run(["sh", "-c", "ls /proc | grep -c '^[0-9]'"]);
    expect(Number(count.stdout.trim())).toBeLessThan(15);
  });
});
