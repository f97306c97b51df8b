/** The `ozekai` program: global options, the commands, and usage errors as exit code 2. */
import { Command, CommanderError } from "@commander-js/extra-typings";
import { registerAccountCommands } from "./commands/account.ts";
import { registerBillingCommands } from "./commands/billing.ts";
import { registerCompletionCommand } from "./commands/completion.ts";
import { registerDoctorCommand } from "./commands/doctor.ts";
import { registerSessionCommands } from "./commands/sessions.ts";
import { registerUsageCommands } from "./commands/usage.ts";
import { registerExecCommand } from "./commands/exec.ts";
import { registerForwardCommand } from "./commands/forward.ts";
import { registerImagesCommand } from "./commands/images.ts";
import { registerJupyterCommand } from "./commands/jupyter.ts";
import { registerShellCommand } from "./commands/shell.ts";
import { registerSshCommands } from "./commands/ssh.ts";
import { registerFilesCommands } from "./commands/files.ts";
import { CliError, EXIT } from "./errors.ts";
import { Output } from "./output.ts";
import type { Program } from "./run.ts";
import { VERSION } from "./version.ts";

export function buildProgram(json = false): Program {
  const program = new Command()
    // With --json, stdout is the one document: help and version go to stderr (inherited by every command).
    .configureOutput({ writeOut: (text) => (json ? process.stderr : process.stdout).write(text) })
    .name("ozekai")
    .description("Isolated GPU containers with a persistent workspace, from your terminal.")
    .version(VERSION)
    .option("--api-url <url>", "the Ozekai API (default: $OZEKAI_API_URL, else https://api.ozekai.dev)")
    .option("--json", "print one JSON document on stdout and nothing else there")
    .showHelpAfterError("(run `ozekai --help` for the commands)")
    .exitOverride();
  registerAccountCommands(program);
  registerBillingCommands(program);
  registerCompletionCommand(program);
  registerDoctorCommand(program);
  registerSessionCommands(program);
  registerUsageCommands(program);
  registerShellCommand(program);
  registerExecCommand(program);
  registerForwardCommand(program);
  registerImagesCommand(program);
  registerJupyterCommand(program);
  registerFilesCommands(program);
  registerSshCommands(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const json = argv.includes("--json");
  const program = buildProgram(json);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // --help and --version end with code 0; anything else commander refuses is a usage error
    // (its message is on stderr already).
    if (error.exitCode === 0) {
      process.exitCode = EXIT.ok;
      return;
    }
    if (json) {
      const command = program.commands.find((c) => argv.includes(c.name()))?.name() ?? "ozekai";
      // No command at all: commander shows the help and says "(outputHelp)".
      const message = error.code === "commander.help" ? "Name a command: `ozekai --help` lists them." : error.message.replace(/^error: /, "");
      new Output(true, command).failure(new CliError("usage", message));
    }
    process.exitCode = EXIT.usage;
  }
}
