/** How every command runs: its options, its Output, and one path from a failure to an exit code. */
import type { Command } from "@commander-js/extra-typings";
import { EXIT, toCliError } from "./errors.ts";
import { Output } from "./output.ts";
import { type GlobalOptions, resolveApiUrl } from "./session.ts";

export interface CommandResult {
  /** The --json document's `data`. */
  data: unknown;
  /** What a person reads on stdout instead. */
  lines: string[];
}

export interface RunContext {
  out: Output;
  globals: GlobalOptions;
}

interface AnyCommand {
  name(): string;
  optsWithGlobals(): object;
}

/** Runs a command's body; its result or its failure is printed, and the exit code set. */
export async function run(command: AnyCommand, body: (ctx: RunContext) => Promise<CommandResult>): Promise<void> {
  const globals = command.optsWithGlobals() as GlobalOptions;
  const out = new Output(globals.json === true, command.name());
  try {
    const { data, lines } = await body({ out, globals });
    out.result(data, lines);
    process.exitCode = EXIT.ok;
  } catch (error) {
    let apiUrl: string | undefined;
    try {
      apiUrl = resolveApiUrl(globals.apiUrl);
    } catch {
      // the URL itself was the problem: the error says so
    }
    const failure = toCliError(error, apiUrl);
    out.failure(failure);
    process.exitCode = EXIT[failure.kind];
  }
}

export type Program = Command<[], GlobalOptions>;
