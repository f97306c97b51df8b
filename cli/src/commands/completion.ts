/** completion bash|zsh|fish: a script completing the commands and their options, built from the program itself. */
import { Argument } from "@commander-js/extra-typings";
import { type Program, run } from "../run.ts";

interface Spec {
  name: string;
  description: string;
  flags: string[];
  /** The values its first argument may take, where they are fixed (completion's shells, a group's subcommands such as `ssh-key add`). */
  choices: string[];
}

function specs(program: Program): { commands: Spec[]; globals: string[] } {
  const longFlags = (options: readonly { long?: string }[]) => options.map((o) => o.long).filter((f): f is string => Boolean(f));
  const globals = [...longFlags(program.options), "--help"];
  const commands = program.commands.map((c) => ({ name: c.name(), description: c.description(), flags: [...longFlags(c.options), ...globals], choices: [...(c.registeredArguments[0]?.argChoices ?? []), ...c.commands.map((sub) => sub.name())] }));
  return { commands, globals };
}

const quote = (text: string) => `'${text.replace(/'/g, "'\\''")}'`;

function bash(s: ReturnType<typeof specs>): string {
  const cases = s.commands.map((c) => `    ${c.name}) words=${quote([...c.choices, ...c.flags].join(" "))} ;;`).join("\n");
  return `# ozekai completion for bash: eval "$(ozekai completion bash)" in ~/.bashrc
_ozekai() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" words
  if [ "$COMP_CWORD" -eq 1 ]; then
    words=${quote([...s.commands.map((c) => c.name), ...s.globals].join(" "))}
  else
    case "\${COMP_WORDS[1]}" in
${cases}
    *) words=${quote(s.globals.join(" "))} ;;
    esac
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _ozekai ozekai
`;
}

function zsh(s: ReturnType<typeof specs>): string {
  const described = s.commands.map((c) => `    ${quote(`${c.name}:${c.description.replace(/:/g, "\\:")}`)}`).join("\n");
  const cases = s.commands.map((c) => `    ${c.name}) compadd -- ${[...c.choices, ...c.flags].join(" ")} ;;`).join("\n");
  return `#compdef ozekai
# ozekai completion for zsh: eval "$(ozekai completion zsh)" in ~/.zshrc (after compinit)
_ozekai() {
  local -a commands
  commands=(
${described}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case $words[2] in
${cases}
  esac
}
compdef _ozekai ozekai
`;
}

function fish(s: ReturnType<typeof specs>): string {
  const lines = ["# ozekai completion for fish: ozekai completion fish > ~/.config/fish/completions/ozekai.fish", "complete -c ozekai -f"];
  for (const c of s.commands) {
    lines.push(`complete -c ozekai -n __fish_use_subcommand -a ${c.name} -d ${quote(c.description)}`);
    if (c.choices.length > 0) lines.push(`complete -c ozekai -n ${quote(`__fish_seen_subcommand_from ${c.name}`)} -a ${quote(c.choices.join(" "))}`);
    for (const flag of c.flags) lines.push(`complete -c ozekai -n ${quote(`__fish_seen_subcommand_from ${c.name}`)} -l ${flag.slice(2)}`);
  }
  return `${lines.join("\n")}\n`;
}

export function registerCompletionCommand(program: Program) {
  program
    .command("completion")
    .description("Print a shell completion script")
    .addArgument(new Argument("<shell>", "the shell").choices(["bash", "zsh", "fish"] as const))
    .action((shell, _options, command) =>
      run(command, async () => {
        const s = specs(program);
        const script = shell === "bash" ? bash(s) : shell === "zsh" ? zsh(s) : fish(s);
        return { data: { shell, script }, lines: [script.trimEnd()] };
      }),
    );
}
