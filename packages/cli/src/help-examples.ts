import type { Command } from "commander";

/**
 * One example per command, by its path under `ciab`, shown at the end of its `--help`. Kept apart from
 * the command definitions so that each stays a plain list of arguments and options.
 */
export const helpExamples: Readonly<Record<string, readonly string[]>> = {
  "": ["npx ciab server", "ciab sandbox create --runtime docker --name demo", "ciab run --provider claude-code \"fix the failing test\""],
  server: ["ciab server --port 8080", "CIAB_DATA_DIR=/var/lib/ciab ciab server --host 127.0.0.1"],
  store: ["ciab store init"],
  "store init": ["CIAB_STORE_DRIVER=dynamodb CIAB_STORE_TABLE=ciab-prod-state ciab store init", "ciab store init --config /etc/ciab/config.toml --json"],
  login: ["ciab login --url https://ciab.example.com --token ciab_…", "echo \"$TOKEN\" | ciab login --url https://ciab.example.com"],
  logout: ["ciab logout"],
  completion: ["ciab completion bash > ~/.local/share/bash-completion/completions/ciab", "ciab completion fish > ~/.config/fish/completions/ciab.fish"],
  run: ["ciab run --provider claude-code --repo https://github.com/you/app \"make the tests pass\""],
  usage: ["ciab usage --from 2026-01-01 --group-by user,day"],
  budget: ["ciab budget", "ciab budget --json"],
  sandbox: ["ciab sandbox create --runtime docker", "ciab sandbox exec demo -- ls -la"],
  "sandbox create": ["ciab sandbox create --runtime docker --image node:20 --name demo --tag team=web"],
  "sandbox list": ["ciab sandbox list --all", "ciab sandbox list --json | jq '.sandboxes[].id'"],
  "sandbox get": ["ciab sandbox get sbx_01jd…"],
  "sandbox logs": ["ciab sandbox logs sbx_01jd… --console"],
  "sandbox pause": ["ciab sandbox pause sbx_01jd…"],
  "sandbox resume": ["ciab sandbox resume sbx_01jd…"],
  "sandbox rm": ["ciab sandbox rm sbx_01jd… sbx_01je…"],
  "sandbox exec": ["ciab sandbox exec sbx_01jd… -- npm test", "ciab sandbox exec -t sbx_01jd… -- bash"],
  "sandbox attach": ["ciab sandbox attach sbx_01jd… 42"],
  "sandbox cp": ["ciab sandbox cp ./notes.md sbx_01jd…:/workspace/notes.md", "ciab sandbox cp sbx_01jd…:/workspace/out.log -"],
  "sandbox ps": ["ciab sandbox ps sbx_01jd…"],
  "sandbox set-timeout": ["ciab sandbox set-timeout sbx_01jd… 1h"],
  session: ["ciab session list --state running", "ciab session logs -f ses_01jd…"],
  "session list": ["ciab session list --state running --limit 10"],
  "session exec-command": ["ciab session exec-command ses_01jd…", "$(ciab session exec-command ses_01jd…)"],
  "session create": ["ciab session create --provider claude-code \"Fix the failing test\"", "ciab session create --provider codex --persistence persistent-volume"],
  volume: ["ciab volume list"],
  "volume list": ["ciab volume list --json"],
  "volume rm": ["ciab volume rm vol_01jd…"],
  image: ["ciab image build --provider claude-code --wait"],
  "image build": ["ciab image build --template builtin://default-docker --provider pi --wait", "ciab image build --template git::https://github.com/acme/images//agent?ref=v2 --var region=eu-west-1"],
  "image list": ["ciab image list --provider claude-code --region us-east-1"],
  "image status": ["ciab image status bld_01jd…"],
  "image delete": ["ciab image delete img_01jd…"],
  "session get": ["ciab session get ses_01jd…"],
  "session logs": ["ciab session logs --follow ses_01jd…"],
  "session ports": ["ciab session ports ses_01jd…"],
  "session cancel": ["ciab session cancel ses_01jd…"],
  "session attach": ["ciab session attach ses_01jd…"],
  "session start": ["ciab session start --provider claude-code"],
  secret: ["echo \"$ANTHROPIC_API_KEY\" | ciab secret set ANTHROPIC_API_KEY"],
  "secret set": ["echo \"$ANTHROPIC_API_KEY\" | ciab secret set ANTHROPIC_API_KEY"],
  "secret list": ["ciab secret list"],
  "secret rm": ["ciab secret rm ANTHROPIC_API_KEY"],
  artifact: ["ciab artifact list --session ses_01jd…"],
  "artifact publish": ["ciab artifact publish --sandbox sbx_01jd… report.html --description \"test report\""],
  "artifact list": ["ciab artifact list --session ses_01jd…"],
  "artifact get": ["ciab artifact get art_01jd…"],
  "artifact download": ["ciab artifact download art_01jd… -o report.html"],
  "artifact rm": ["ciab artifact rm art_01jd…"],
  snapshot: ["ciab snapshot create --sandbox sbx_01jd… --label before-upgrade"],
  "snapshot create": ["ciab snapshot create --sandbox sbx_01jd… --label before-upgrade"],
  "snapshot list": ["ciab snapshot list --sandbox sbx_01jd…"],
  "snapshot restore": ["ciab snapshot restore snap_01jd…"],
  "snapshot rm": ["ciab snapshot rm snap_01jd…"],
  token: ["ciab token create --name ci --role member"],
  "token create": ["ciab token create --name ci --role member --expires 30d"],
  "token list": ["ciab token list"],
  "token revoke": ["ciab token revoke tok_01jd…"],
  approvals: ["ciab approvals list --state pending"],
  "approvals list": ["ciab approvals list --state pending --json"],
  "approvals approve": ["ciab approvals approve apr_01jd…"],
  "approvals deny": ["ciab approvals deny apr_01jd…", "ciab approvals deny apr_01jd… --note 'no writes to /tmp; use /workspace/out'"],
  audit: ["ciab audit --session ses_01jd… --tool write_file", "ciab audit --since 2026-11-01T00:00:00Z --json"],
  user: ["ciab user list"],
  "user add": ["ciab user add alice --role member", "ciab user add bob --role admin --workspace ws_01jd…"],
  "user list": ["ciab user list --json"],
  "user rm": ["ciab user rm usr_01jd…"],
  "user set-role": ["ciab user set-role usr_01jd… admin"],
  workspace: ["ciab workspace list"],
  "workspace list": ["ciab workspace list --json"],
  "workspace create": ["ciab workspace create research"],
};

/** The path of a command under the program: `sandbox exec` for `ciab sandbox exec`, "" for `ciab`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current?.parent; current = current.parent) names.unshift(current.name());
  return names.join(" ");
}

/** Adds "Examples:" to the help of every command in the tree that has one. */
export function addHelpExamples(command: Command): void {
  const examples = helpExamples[commandPath(command)];
  if (examples) command.addHelpText("after", `\nExamples:\n${examples.map((line) => `  $ ${line}`).join("\n")}`);
  for (const subcommand of command.commands) addHelpExamples(subcommand);
}
