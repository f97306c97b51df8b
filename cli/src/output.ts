/**
 * What a command prints. With `--json`, stdout carries exactly one JSON document and nothing else,
 * of one shape for every command:
 *   { "ok": true,  "command": "whoami", "data": { … } }
 *   { "ok": false, "command": "whoami", "error": { "kind", "exitCode", "message", "status"?, "code"?, "requestId"?, "fields"? }, "data"? }
 * Progress, notes and prompts always go to stderr. Colour only on a terminal without NO_COLOR
 * (util.styleText checks both).
 */
import { styleText } from "node:util";
import { type CliError, EXIT } from "./errors.ts";

export type Style = Parameters<typeof styleText>[0];

export class Output {
  readonly json: boolean;
  readonly command: string;
  constructor(json: boolean, command: string) {
    this.json = json;
    this.command = command;
  }

  /** A line for the person at the terminal (stderr: never part of the result). */
  note(message: string, style?: Style) {
    process.stderr.write(`${style ? styleText(style, message, { stream: process.stderr }) : message}\n`);
  }

  /** The command's result: `data` as JSON, or `lines` for a person. */
  result(data: unknown, lines: string[]) {
    if (this.json) process.stdout.write(`${JSON.stringify({ ok: true, command: this.command, data })}\n`);
    else if (lines.length > 0) process.stdout.write(`${lines.join("\n")}\n`);
  }

  /** A failure: the JSON envelope on stdout with --json; the message on stderr always. */
  failure(error: CliError) {
    const { status, code, requestId, fields, data } = error.extra;
    if (this.json) {
      const body = { kind: error.kind, exitCode: EXIT[error.kind], message: error.message, status, code, requestId, fields };
      process.stdout.write(`${JSON.stringify({ ok: false, command: this.command, error: body, ...(data === undefined ? {} : { data }) })}\n`);
    }
    const lines = [`${styleText("red", "error:", { stream: process.stderr })} ${error.message}`];
    for (const field of fields ?? []) lines.push(`  ${field.field}: ${field.message}`);
    if (requestId) lines.push(`  request id: ${requestId}`);
    process.stderr.write(`${lines.join("\n")}\n`);
  }
}

/** Aligned `key  value` lines. */
export function table(rows: [string, string][]): string[] {
  const width = Math.max(0, ...rows.map(([key]) => key.length));
  return rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`);
}
