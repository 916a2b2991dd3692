import { describe, expect, test } from "vitest";
import { generateSSHKeyPair } from "./ssh-key-pair.js";
import { buildUserData } from "./user-data.js";

const hostKey = generateSSHKeyPair("host");

function parse(userData: string) {
  expect(userData.startsWith("#cloud-config\n")).toBe(true);
  return JSON.parse(userData.slice("#cloud-config\n".length)) as {
    users: unknown[];
    ssh_keys: Record<string, string>;
    write_files: { path: string; content: string; permissions: string }[];
    runcmd: (string | string[])[];
  };
}

describe("buildUserData", () => {
  test("a pre-built AMI: the user with the sandbox's key, the pinned host key, the unit started last", () => {
    const config = parse(
      buildUserData({ sandboxID: "sbx_1", sshUser: "admin", sshPublicKey: "ssh-ed25519 AAAA k", configURL: undefined, hostKey, bootstrap: undefined }),
    );
    expect(config.users).toEqual([
      { name: "admin", shell: "/bin/bash", lock_passwd: true, sudo: "ALL=(ALL) NOPASSWD:ALL", ssh_authorized_keys: ["ssh-ed25519 AAAA k"] },
    ]);
    expect(config.ssh_keys).toEqual({ ed25519_private: hostKey.privateKey, ed25519_public: hostKey.publicKey });
    const unit = config.write_files.find((file) => file.path === "/etc/systemd/system/ciab-agentd.service")!;
    expect(unit.permissions).toBe("0600");
    expect(unit.content).toContain(
      "ExecStart=/opt/ciab/bin/node /opt/ciab/bin/ciab-agentd.js --socket /run/ciab/agentd.sock --workspace-root /workspace --gateway-socket /run/ciab/gateway.sock --sandbox-id sbx_1",
    );
    expect(config.write_files.map((file) => file.path)).not.toContain("/opt/ciab/bin/package.json");
    expect(JSON.stringify(config.runcmd)).not.toContain("curl");
    expect(config.runcmd.at(-1)).toEqual(["systemctl", "enable", "--now", "ciab-agentd.service"]);
  });

  test("a plain AMI downloads node, agentd and the tools first; an AWS key pair leaves the default user to cloud-init", () => {
    const config = parse(
      buildUserData({
        sandboxID: "sbx_2",
        sshUser: "ubuntu",
        sshPublicKey: undefined,
        configURL: undefined,
        hostKey,
        bootstrap: {
          node: "https://cp/machine-downloads/node?s=1",
          agentd: "https://cp/machine-downloads/agentd?s=1",
          tools: "https://cp/machine-downloads/tools?s=1",
        },
      }),
    );
    expect(config.users).toEqual(["default"]);
    const commands = config.runcmd.map((command) => (Array.isArray(command) ? command.join(" ") : command));
    const download = commands.findIndex((command) => command.includes("https://cp/machine-downloads/node?s=1"));
    const start = commands.indexOf("systemctl enable --now ciab-agentd.service");
    expect(download).toBeGreaterThan(0);
    expect(start).toBeGreaterThan(download);
    const unpack = commands.indexOf("tar -x -f /var/lib/ciab/tools.tar -C /opt/ciab/tools --no-same-owner");
    expect(unpack).toBeGreaterThan(commands.findIndex((command) => command.includes("https://cp/machine-downloads/tools?s=1")));
    expect(commands.indexOf("chown -R ubuntu: /run/ciab /workspace /opt/ciab/tools /var/lib/ciab")).toBeGreaterThan(unpack);
    expect(config.write_files.find((file) => file.path === "/opt/ciab/bin/package.json")?.content).toContain('"module"');
  });

  test("the sandbox env is not in user-data: agentd reads the file fetched from the single-use config URL before it starts", () => {
    const config = parse(
      buildUserData({ sandboxID: "sbx_3", sshUser: "admin", sshPublicKey: "k", configURL: "https://cp/machine-downloads/config?c=1", hostKey, bootstrap: undefined }),
    );
    const commands = config.runcmd.map((command) => (Array.isArray(command) ? command.join(" ") : command));
    const fetch = commands.findIndex((command) => command.endsWith("-o /var/lib/ciab/sandbox-env.json https://cp/machine-downloads/config?c=1"));
    expect(fetch).toBeGreaterThan(0);
    expect(commands.indexOf("systemctl enable --now ciab-agentd.service")).toBeGreaterThan(fetch);
    const unit = config.write_files[0]!.content;
    expect(unit).toContain("--sandbox-id sbx_3 --env-file /var/lib/ciab/sandbox-env.json");
    expect(unit.split("\n").filter((line) => line.startsWith("Environment="))).toEqual([
      "Environment=PATH=/opt/ciab/bin:/opt/ciab/tools/node_modules/.bin:/usr/local/bin:/usr/bin:/bin",
    ]);
  });
});
