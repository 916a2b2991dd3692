import path from "node:path";
import type { MachineDownloads } from "../runtime.js";
import {
  agentdUnitName,
  instanceAgentdPath,
  instanceAgentSocket,
  instanceChannelSecretPath,
  instanceChannelTokenPath,
  instanceConfigPath,
  instanceGatewaySocket,
  instanceNodePath,
  instanceRunDirectory,
  instanceStateDirectory,
  instanceToolsArchivePath,
  instanceToolsPath,
  instanceWorkspace,
} from "./instance-layout.js";

export interface UserDataOptions {
  sandboxID: string;
  sshUser: string;
  /** The sandbox's own key; undefined when an AWS key pair is used (it lands on the AMI's default user). */
  sshPublicKey: string | undefined;
  /**
   * The single-use URL of the machine's config (its sandbox env), fetched before agentd starts; undefined when
   * the sandbox has no env. The env itself never goes into user-data, which stays readable in the account.
   */
  configURL: string | undefined;
  /** The instance's sshd host key, made here so that the control plane knows it before the first connection. */
  hostKey: { privateKey: string; publicKey: string };
  /** Set for AMIs without agentd: node, agentd and the agent CLIs come from these. */
  bootstrap: MachineDownloads | undefined;
  /** Set for `channel = "reverse"`: agentd dials `channelURL` with the one-time token (docs/decisions/0019-ec2-reverse-channel.md). */
  reverse?: { channelURL: string; token: string } | undefined;
}

/**
 * The instance's cloud-config, as JSON (a YAML subset cloud-init reads, with no quoting rules to get wrong):
 * the SSH user with the sandbox's key, sshd allowed to replace a stale gateway socket, agentd as a unit
 * running as that user (so its SSH sessions can open agentd's socket), and, first, the downloads from the
 * control plane: node, agentd and the tools dir for plain AMIs, the sandbox's config for any AMI.
 */
export function buildUserData(options: UserDataOptions): string {
  const user = options.sshUser;
  const users =
    options.sshPublicKey === undefined
      ? ["default"]
      : [
          {
            name: user,
            shell: "/bin/bash",
            lock_passwd: true,
            sudo: "ALL=(ALL) NOPASSWD:ALL",
            ssh_authorized_keys: [options.sshPublicKey],
          },
        ];
  const runcmd: (string | string[])[] = [
    ["mkdir", "-p", instanceRunDirectory, instanceWorkspace, instanceToolsPath, path.posix.dirname(instanceNodePath), instanceStateDirectory],
    ["chmod", "0700", instanceStateDirectory],
  ];
  if (options.bootstrap) runcmd.push(...downloadCommands(options.bootstrap));
  if (options.configURL !== undefined) runcmd.push([...curl, "-o", instanceConfigPath, options.configURL]);
  runcmd.push(["chown", "-R", `${user}:`, instanceRunDirectory, instanceWorkspace, instanceToolsPath, instanceStateDirectory]);
  const writeFiles = [
    {
      path: `/etc/systemd/system/${agentdUnitName}`,
      permissions: "0600",
      content: agentdUnit(options),
    },
    {
      path: "/etc/ssh/sshd_config.d/50-ciab.conf",
      permissions: "0644",
      content: "StreamLocalBindUnlink yes\nAllowStreamLocalForwarding yes\n",
    },
  ];
  if (options.reverse) writeFiles.push({ path: instanceChannelTokenPath, permissions: "0600", content: `${options.reverse.token}\n` });
  // The agentd bundle is an ES module; this makes `node ciab-agentd.js` load it as one.
  if (options.bootstrap) writeFiles.push({ path: path.posix.join(path.posix.dirname(instanceAgentdPath), "package.json"), permissions: "0644", content: '{ "type": "module" }\n' });
  runcmd.push(
    "systemctl reload ssh >/dev/null 2>&1 || systemctl reload sshd >/dev/null 2>&1 || true",
    ["systemctl", "daemon-reload"],
    ["systemctl", "enable", "--now", agentdUnitName],
  );
  const config = {
    users,
    ssh_keys: { ed25519_private: options.hostKey.privateKey, ed25519_public: options.hostKey.publicKey },
    write_files: writeFiles,
    runcmd,
  };
  return `#cloud-config\n${JSON.stringify(config, null, 1)}\n`;
}

function agentdUnit(options: UserDataOptions): string {
  return [
    "[Unit]",
    "Description=ciab agentd",
    "After=network-online.target",
    "",
    "[Service]",
    `User=${options.sshUser}`,
    // Recreated on every boot (a stopped and started instance has an empty /run).
    "RuntimeDirectory=ciab",
    "RuntimeDirectoryMode=0755",
    ...(options.reverse ? ["StateDirectory=ciab", "StateDirectoryMode=0700"] : []),
    `WorkingDirectory=${instanceWorkspace}`,
    `Environment=PATH=/opt/ciab/bin:${instanceToolsPath}/node_modules/.bin:/usr/local/bin:/usr/bin:/bin`,
    [
      `ExecStart=${instanceNodePath}`,
      instanceAgentdPath,
      "--socket",
      instanceAgentSocket,
      "--workspace-root",
      instanceWorkspace,
      "--gateway-socket",
      instanceGatewaySocket,
      "--sandbox-id",
      options.sandboxID,
      ...(options.configURL !== undefined ? ["--env-file", instanceConfigPath] : []),
      ...(options.reverse
        ? ["--channel-url", options.reverse.channelURL.replace(/%/g, "%%"), "--channel-token-file", instanceChannelTokenPath, "--channel-secret-file", instanceChannelSecretPath]
        : []),
    ].join(" "),
    "Restart=on-failure",
    "RestartSec=1",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

const curl = ["curl", "-fsS", "--retry", "5", "--retry-connrefused", "--max-time", "600"];

function downloadCommands(urls: MachineDownloads): string[][] {
  return [
    [...curl, "-o", instanceNodePath, urls.node],
    ["chmod", "0755", instanceNodePath],
    [...curl, "-o", instanceAgentdPath, urls.agentd],
    [...curl, "-o", instanceToolsArchivePath, urls.tools],
    ["tar", "-x", "-f", instanceToolsArchivePath, "-C", instanceToolsPath, "--no-same-owner"],
    ["rm", "-f", instanceToolsArchivePath],
  ];
}
