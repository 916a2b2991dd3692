import { describe, expect, test } from "vitest";
import { generateSSHKeyPair } from "./ssh-key-pair.js";
import { buildUserData } from "./user-data.js";

const hostKey = generateSSHKeyPair("host");

describe("user-data for the reverse channel", () => {
  test("the token lands in agentd's state dir, readable by its user only, and agentd is told where to dial", () => {
    const userData = buildUserData({
      sandboxID: "sbx_r1",
      sshUser: "admin",
      sshPublicKey: "ssh-ed25519 AAAA k",
      configURL: undefined,
      hostKey,
      bootstrap: undefined,
      reverse: { channelURL: "https://ciab.example/a%20b/agent-channel/sbx_r1", token: "ciabot_secret-token" },
    });
    const config = JSON.parse(userData.slice("#cloud-config\n".length)) as {
      write_files: { path: string; content: string; permissions: string }[];
      runcmd: (string | string[])[];
    };
    const token = config.write_files.find((file) => file.path === "/var/lib/ciab/channel-token")!;
    expect(token).toEqual({ path: "/var/lib/ciab/channel-token", permissions: "0600", content: "ciabot_secret-token\n" });
    expect(config.runcmd).toContainEqual(["chown", "-R", "admin:", "/run/ciab", "/workspace", "/opt/ciab/tools", "/var/lib/ciab"]);
    const unit = config.write_files.find((file) => file.path.endsWith("ciab-agentd.service"))!.content;
    expect(unit).toContain("StateDirectory=ciab\n");
    // `%` is a specifier in a unit file.
    expect(unit).toContain(
      "--channel-url https://ciab.example/a%%20b/agent-channel/sbx_r1 --channel-token-file /var/lib/ciab/channel-token --channel-secret-file /var/lib/ciab/channel-secret",
    );
    expect(unit).not.toContain("ciabot_");
  });
});
