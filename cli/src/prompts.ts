/**
 * Asking the person at the terminal, on stderr (stdout is the result). A password is only ever
 * typed masked or read from stdin (--password-stdin), never taken as an argument nor echoed.
 * Without a terminal a missing answer is a usage error naming the flag that gives it.
 */
import * as clack from "@clack/prompts";
import { CliError } from "./errors.ts";

const interactive = () => process.stdin.isTTY === true && process.stderr.isTTY === true;
const io = { input: process.stdin, output: process.stderr };

function answered<T>(value: T): Exclude<T, symbol> {
  if (clack.isCancel(value)) throw new CliError("error", "Cancelled.");
  return value as Exclude<T, symbol>;
}

const needTerminal = (what: string, flag: string) => new CliError("usage", `No terminal to ask for ${what}: pass ${flag}.`);

export async function askText(message: string, flag: string): Promise<string> {
  if (!interactive()) throw needTerminal(message.toLowerCase(), flag);
  return answered(await clack.text({ ...io, message, validate: (v) => (v?.trim() ? undefined : "Required") })).trim();
}

export async function askPassword(message: string): Promise<string> {
  if (!interactive()) throw needTerminal("a password", "--password-stdin");
  return answered(await clack.password({ ...io, message, mask: "•", validate: (v) => (v ? undefined : "Required") }));
}

export async function askConfirm(message: string, flag: string): Promise<boolean> {
  if (!interactive()) throw needTerminal(`a confirmation (${message})`, flag);
  return answered(await clack.confirm({ ...io, message, initialValue: false }));
}

/** The password piped on stdin: everything up to the end, less one trailing newline. */
export async function readPasswordFromStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new CliError("usage", "--password-stdin reads the password from a pipe, e.g. `printf %s \"$PASSWORD\" | ozekai login --password-stdin`.");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > 8192) throw new CliError("usage", "The password on stdin is longer than 8 KiB.");
    chunks.push(chunk as Buffer);
  }
  const password = Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
  if (!password) throw new CliError("usage", "No password on stdin.");
  return password;
}
