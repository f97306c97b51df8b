/** upload, download, ls, rm: files in your workspace (cli/src/files/ does the transfers). */
import { Option } from "@commander-js/extra-typings";
import { CliError } from "../errors.ts";
import { bytes } from "../format.ts";
import { downloadDirectory } from "../files/directory.ts";
import { downloadOne, planDownload } from "../files/download.ts";
import { Progress, parseRate, RateLimit } from "../files/progress.ts";
import { listDirectory, removePath, requireHotWorkspace, workspacePath } from "../files/remote.ts";
import { type FileResult, outcome, runPool, type TransferTools } from "../files/transfer.ts";
import { planBatches, uploadBatch } from "../files/batch.ts";
import { planUpload, uploadOne } from "../files/upload.ts";
import { table } from "../output.ts";
import { type Program, run } from "../run.ts";
import { type GlobalOptions, openSession, type Session } from "../session.ts";

const limitRateOption = () => new Option("--limit-rate <rate>", "at most this many bytes per second in all (e.g. 500k, 10M)");

function rateLimit(text: string | undefined): RateLimit | undefined {
  if (text === undefined) return undefined;
  try {
    return new RateLimit(parseRate(text));
  } catch (error) {
    throw new CliError("usage", (error as Error).message);
  }
}

/** A line for each link and special file that is not followed (never an error for the rest). */
function reportSkipped(progress: Progress, skipped: FileResult[]) {
  for (const file of skipped) progress.note(`skipped ${file.local}: ${file.reason}`);
}

/**
 * What upload and download share: the command with --sync and --limit-rate (its arguments are
 * added by the caller), and `runTransfer`, which signs in, plans, moves the files and reports them.
 */
function transferCommand(program: Program, name: "upload" | "download", text: { description: string; sync: string; examples: string[] }) {
  return program
    .command(name)
    .description(text.description)
    .option("--sync", text.sync)
    .addOption(limitRateOption())
    .addHelpText("after", `\nExamples:\n${text.examples.map((line) => `  ${line}`).join("\n")}`);
}

interface Planned {
  items: { size: number }[];
  skipped: FileResult[];
}

async function runTransfer<P extends Planned>(
  globals: GlobalOptions,
  options: { sync?: true; limitRate?: string },
  direction: "upload" | "download",
  plan: (session: Session) => Promise<P>,
  send: (plan: P, tools: TransferTools) => Promise<FileResult[]>,
) {
  const limit = rateLimit(options.limitRate);
  const session = openSession(globals, { transfers: true });
  await session.requireSignIn();
  const planned = await plan(session);
  const progress = new Progress(direction === "upload" ? "uploading" : "downloading");
  reportSkipped(progress, planned.skipped);
  progress.files = planned.items.length;
  progress.totalBytes = planned.items.reduce((sum, item) => sum + item.size, 0);
  const tools: TransferTools = { session, progress, limit, sync: options.sync === true, apiUrl: session.apiUrl };
  const results = await send(planned, tools);
  return outcome([...results, ...planned.skipped], progress, direction === "upload" ? "uploaded" : "downloaded");
}

export function registerFilesCommands(program: Program) {
  transferCommand(program, "upload", {
    description: "Upload files and directories into your workspace: several at once, small files together in one stream, resumable, SHA-256 checked",
    sync: "skip files the workspace already has with the same size and SHA-256",
    examples: [
      "ozekai upload model.bin                 # → model.bin at the top of the workspace",
      "ozekai upload data/ datasets/           # → datasets/data/…",
      "ozekai upload a.txt b.txt /             # both at the top",
      "ozekai upload --sync src/ code/         # send only what changed",
    ],
  })
    .argument("<paths...>", "files or directories here (a directory with everything in it), then, when there are two or more, where in the workspace (ending with /, or several: into that directory; default its top)")
    .action((paths, options, command) =>
      run(command, ({ globals }) =>
        // As cp: one argument is the local one; with several, the last is the workspace path.
        runTransfer(
          globals,
          options,
          "upload",
          async (session) => {
            const [sources, remote] = paths.length > 1 ? [paths.slice(0, -1), paths.at(-1)] : [paths, undefined];
            const planned = await planUpload(sources, remote);
            await requireHotWorkspace(session.client.api);
            return planned;
          },
          async (planned, tools) => {
            // --sync compares each file with the workspace's first: one by one, then.
            const { batches, singles } = tools.sync ? { batches: [], singles: planned.items } : planBatches(planned.items, planned.directory);
            const jobs = [
              ...batches.map((batch) => () => uploadBatch(planned.directory, batch, tools)),
              ...singles.map((item) => async () => [await uploadOne(tools.session.client.api, item, tools)]),
            ];
            return (await runPool(jobs, (job) => job())).flat();
          },
        ),
      ),
    );

  transferCommand(program, "download", {
    description: "Download a file or a whole directory of your workspace: a directory in one stream, every file SHA-256 checked; --sync file by file, resumable",
    sync: "skip files that are here already with the same size and SHA-256",
    examples: ["ozekai download results/                # → ./results/…", "ozekai download model.bin ~/models/", "ozekai download --sync / backup         # the whole workspace, only what changed"],
  })
    .argument("<remote>", "a file or directory in the workspace (/ for all of it)")
    .argument("[local]", "where here (default: the current directory); an existing directory: into it")
    .action((remoteArg, localArg, options, command) =>
      run(command, ({ globals }) =>
        runTransfer(
          globals,
          options,
          "download",
          async (session) => {
            await requireHotWorkspace(session.client.api);
            return planDownload(session.client.api, remoteArg, localArg, options.sync === true);
          },
          (planned, tools) => (planned.directory ? downloadDirectory(planned.directory, tools) : runPool(planned.items, (item) => downloadOne(tools.session.client.api, item, tools))),
        ),
      ),
    );

  program
    .command("ls")
    .description("List a directory of your workspace: types, sizes, modification times")
    .argument("[path]", "a directory in the workspace (default: its top)")
    .addHelpText("after", "\nExamples:\n  ozekai ls\n  ozekai ls datasets/ --json")
    .action((pathArg, _options, command) =>
      run(command, async ({ globals }) => {
        const session = openSession(globals);
        await session.requireSignIn();
        const path = workspacePath(pathArg ?? "");
        const entries = await listDirectory(session.client.api, path);
        const shown = (entry: (typeof entries)[number]) =>
          entry.type === "dir" ? `${entry.name}/` : entry.type === "symlink" ? `${entry.name} -> ${entry.target ?? "?"}` : entry.name;
        const lines = entries.map((entry) => {
          const size = entry.type === "file" ? bytes(entry.size) : "-";
          return `${entry.type.padEnd(7)}  ${size.padStart(10)}  ${entry.mtime.replace("T", " ").slice(0, 19)}  ${shown(entry)}`;
        });
        return { data: { path, entries, total: entries.length }, lines: lines.length > 0 ? lines : [`(${path === "" ? "the workspace" : path} is empty)`] };
      }),
    );

  program
    .command("rm")
    .description("Delete files, links (never what they point to) or empty directories in your workspace; -r for a directory and all in it")
    .argument("<path...>", "paths in the workspace")
    .option("-r, --recursive", "remove directories and everything in them")
    .addHelpText("after", "\nExamples:\n  ozekai rm old.ckpt\n  ozekai rm -r runs/2024-01")
    .action((paths, options, command) =>
      run(command, async ({ globals }) => {
        const session = openSession(globals);
        await session.requireSignIn();
        const targets = paths.map((raw) => {
          const path = workspacePath(raw);
          // The root has no path: removing all of it is `DELETE /v1/workspace` (destroy), never an rm.
          if (path === "") throw new CliError("usage", "rm names a path inside the workspace; the workspace itself is not removed this way.");
          return path;
        });
        const removed = [];
        for (const path of targets) {
          try {
            removed.push(await removePath(session.client.api, path, options.recursive === true));
          } catch (error) {
            if (error instanceof CliError && error.extra.code === "directory_not_empty") {
              throw new CliError("conflict", `${path} is a directory that is not empty: add -r to remove it and everything in it.`, { ...error.extra, data: { removed } });
            }
            throw error;
          }
        }
        return { data: { removed }, lines: table(removed.map((entry) => [entry.type, `removed ${entry.path}`])) };
      }),
    );
}

