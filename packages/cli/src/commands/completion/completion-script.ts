import type { Command } from "commander";

export const completionShells = ["bash", "zsh", "fish"] as const;
export type CompletionShell = (typeof completionShells)[number];

/** A command of the tree as completion sees it: its path, the words after it, and its description. */
interface CompletionNode {
  path: string;
  subcommands: { name: string; description: string }[];
  options: { flag: string; description: string }[];
}

/** Every command under `program`, with the names (aliases too) and long options that may follow it. */
export function completionNodes(program: Command): CompletionNode[] {
  const nodes: CompletionNode[] = [];
  const flags = (command: Command) =>
    command.options
      .map((option) => ({ flag: option.long ?? option.short ?? "", description: option.description }))
      .filter((option) => option.flag !== "");
  // The program's options (--url, --json…) are taken after any command too.
  const globals = flags(program);
  const visit = (command: Command, path: string): void => {
    const own = flags(command);
    const options = [...own, ...globals.filter((global) => !own.some((option) => option.flag === global.flag))];
    const subcommands = command.commands.flatMap((subcommand) =>
      [subcommand.name(), ...subcommand.aliases()].map((name) => ({ name, description: subcommand.description() })),
    );
    nodes.push({ path, subcommands, options: [...options, { flag: "--help", description: "show help" }] });
    for (const subcommand of command.commands) {
      for (const name of [subcommand.name(), ...subcommand.aliases()]) visit(subcommand, path === "" ? name : `${path} ${name}`);
    }
  };
  visit(program, "");
  return nodes;
}

/** The script that teaches `shell` to complete `ciab`'s commands and options. */
export function completionScript(shell: CompletionShell, program: Command): string {
  const nodes = completionNodes(program);
  return shell === "fish" ? fishScript(nodes) : bashScript(nodes, shell === "zsh");
}

function bashScript(nodes: CompletionNode[], zsh: boolean): string {
  const paths = nodes.filter((node) => node.path !== "").map((node) => `" ${node.path}"`);
  const cases = nodes.map((node) => {
    const words = [...node.subcommands.map((subcommand) => subcommand.name), ...node.options.map((option) => option.flag)];
    return `    "${node.path === "" ? "" : ` ${node.path}`}") words="${words.join(" ")}" ;;`;
  });
  return `${zsh ? "#compdef ciab\nautoload -U +X bashcompinit && bashcompinit\n" : ""}# ciab completion for ${zsh ? "zsh" : "bash"}: eval "$(ciab completion ${zsh ? "zsh" : "bash"})"
_ciab() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" word words="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "$path $word" in
      ${paths.join("|")}) path="$path $word" ;;
    esac
  done
  case "$path" in
${cases.join("\n")}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _ciab ciab
`;
}

function fishScript(nodes: CompletionNode[]): string {
  const lines = [
    "# ciab completion for fish: ciab completion fish > ~/.config/fish/completions/ciab.fish",
    "function __ciab_path",
    "    set -l path",
    "    for word in (commandline -opc)[2..-1]",
    "        switch \"$path $word\"",
    `            case ${nodes.filter((node) => node.path !== "").map((node) => fishQuote(` ${node.path}`)).join(" ")}`,
    "                set path \"$path $word\"",
    "        end",
    "    end",
    // Prefixed so that the top level is not an empty line, which fish would drop.
    "    echo \"at:$path\"",
    "end",
  ];
  for (const node of nodes) {
    const condition = fishQuote(`test (__ciab_path) = ${fishQuote(`at:${node.path === "" ? "" : ` ${node.path}`}`)}`);
    for (const subcommand of node.subcommands) {
      lines.push(`complete -c ciab -f -n ${condition} -a ${fishQuote(subcommand.name)} -d ${fishQuote(subcommand.description)}`);
    }
    for (const option of node.options) {
      const flag = option.flag.startsWith("--") ? `-l ${option.flag.slice(2)}` : `-s ${option.flag.slice(1)}`;
      lines.push(`complete -c ciab -n ${condition} ${flag} -d ${fishQuote(option.description)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

function fishQuote(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}
