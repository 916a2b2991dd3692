import { execFileSync } from "node:child_process";
import { expect, test } from "vitest";
import { sandboxLifecycleSuite } from "./sandbox-lifecycle-suite.js";

sandboxLifecycleSuite("docker", (context) => {
  test("the container carries our labels and is never privileged", () => {
    const { sandbox } = context();
    const inspect = JSON.parse(
      execFileSync("docker", ["inspect", `ciab-${sandbox.id}`], { encoding: "utf8" }),
    )[0] as { Config: { Labels: Record<string, string> }; HostConfig: { Privileged: boolean; NetworkMode: string } };
    expect(inspect.Config.Labels).toMatchObject({ "ciab-managed": "true", "ciab-sandbox-id": sandbox.id });
    expect(inspect.HostConfig.Privileged).toBe(false);
    expect(inspect.HostConfig.NetworkMode).toBe("none");
  });

  test("git, bash, curl and certificates are in the default image", async () => {
    const { sandbox } = context();
    const probe = await sandbox.commands.run(["sh", "-c", "git --version && bash --version | head -1 && curl --version | head -1 && ls /etc/ssl/certs | head -1"]);
    expect(probe.exit_code).toBe(0);
  });
});
