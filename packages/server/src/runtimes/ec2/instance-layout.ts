import { agentSocketName } from "@ciab/protocol";

/** Where things live on an instance; a pre-built AMI (`ciab-agent-*`) has node and agentd here already. */
export const instanceNodePath = "/opt/ciab/bin/node";
export const instanceAgentdPath = "/opt/ciab/bin/ciab-agentd.js";
export const instanceToolsPath = "/opt/ciab/tools";
export const instanceRunDirectory = "/run/ciab";
export const instanceAgentSocket = `${instanceRunDirectory}/${agentSocketName}`;
/** sshd binds it (a remote unix forward) and hands its connections to the control plane's gateway. */
export const instanceGatewaySocket = `${instanceRunDirectory}/gateway.sock`;
export const instanceWorkspace = "/workspace";
export const agentdUnitName = "ciab-agentd.service";
/** AMIs named so are taken to carry node and agentd at the paths above. */
export const prebuiltImageNamePrefix = "ciab-agent-";
/** Canonical's account and its Ubuntu 22.04 names, for when no AMI is configured. */
export const ubuntuImageOwner = "099720109477";
export const ubuntuImageNamePattern = "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*";
/** agentd's own state across boots (the reverse channel's token and secret); /run is emptied by a stop. */
export const instanceStateDirectory = "/var/lib/ciab";
export const instanceChannelTokenPath = `${instanceStateDirectory}/channel-token`;
export const instanceChannelSecretPath = `${instanceStateDirectory}/channel-secret`;
/** The sandbox's env, fetched once at boot from its config URL and read by agentd (`--env-file`). */
export const instanceConfigPath = `${instanceStateDirectory}/sandbox-env.json`;
/** Where a plain AMI's boot puts the tools tarball before unpacking it. */
export const instanceToolsArchivePath = `${instanceStateDirectory}/tools.tar`;
