import { useLocation } from "preact-iso";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api, networkProblem, type Problem, type Schemas, workspacePath } from "../api";
import { ProblemView } from "../components/problem";
import { childPath, downloadFile, removePartial, uploadFile } from "../files/transfer";
import { useSignedIn } from "../signed-in";
import { useTitle } from "../title";

type Entry = Schemas["DirectoryListing"]["entries"][number];

const PAGE_SIZE = 100;

const size = (bytes: number) => (bytes < 1024 ? `${bytes} B` : bytes < 1024 ** 2 ? `${(bytes / 1024).toFixed(1)} KiB` : bytes < 1024 ** 3 ? `${(bytes / 1024 ** 2).toFixed(1)} MiB` : `${(bytes / 1024 ** 3).toFixed(2)} GiB`);
const filesHref = (path: string) => (path ? `/files?path=${encodeURIComponent(path)}` : "/files");

/** One page of a directory's entries: the root at /tree, any other at /tree/{path}. */
function listPage(dir: string, after: string | undefined) {
  const query = { limit: PAGE_SIZE, after };
  return dir ? api.GET("/v1/workspace/tree/{path}", { params: { path: { path: dir }, query }, pathSerializer: workspacePath }) : api.GET("/v1/workspace/tree", { params: { query } });
}

export function FilesPage() {
  useTitle("Files");
  const signedIn = useSignedIn();
  const { query } = useLocation();
  const dir = (query.path ?? "").replace(/^\/+|\/+$/g, "");
  const [entries, setEntries] = useState<Entry[] | undefined>();
  const [next, setNext] = useState<string | null>(null);
  const [total, setTotal] = useState(0);
  const [noWorkspace, setNoWorkspace] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>();
  const [loading, setLoading] = useState(false);
  const uploads = useUploads(() => load());

  const load = useCallback(
    async (after?: string) => {
      setLoading(true);
      setProblem(undefined);
      try {
        const { data, error, response } = await listPage(dir, after);
        if (data) {
          setEntries((shown) => (after && shown ? [...shown, ...data.entries] : data.entries));
          setNext(data.truncated ? data.next : null);
          setTotal(data.total);
          setNoWorkspace(false);
        } else if (response.status === 404 && !dir && error?.code === "not_found") {
          // No workspace yet: the first connect makes one.
          setNoWorkspace(true);
          setEntries([]);
        } else setProblem(error);
      } catch (error) {
        setProblem(networkProblem(error));
      } finally {
        setLoading(false);
      }
    },
    [dir],
  );

  useEffect(() => {
    if (!signedIn) return;
    setEntries(undefined);
    void load();
  }, [load, signedIn]);

  if (!signedIn) return null;
  const incomplete = new Set(uploads.uploads.filter((u) => u.state !== "verified" && u.state !== "cancelled").map((u) => u.path));
  return (
    <section aria-labelledby="files-title">
      <h1 id="files-title">Files</h1>
      <Breadcrumbs dir={dir} />
      <ProblemView problem={problem} />
      {noWorkspace ? (
        <p>No workspace yet: your first connect creates one. Connect from the <a href="/dashboard">dashboard</a>.</p>
      ) : (
        <>
          <UploadArea dir={dir} uploads={uploads} />
          {entries === undefined ? (
            <p role="status">Loading…</p>
          ) : entries.length === 0 ? (
            <p>This folder is empty.</p>
          ) : (
            <FileTable dir={dir} entries={entries} incomplete={incomplete} onChanged={() => load()} />
          )}
          {entries !== undefined && entries.length > 0 && (
            <p class="hint">
              Showing {entries.length} of {total}.
            </p>
          )}
          {next !== null && (
            <button type="button" disabled={loading} aria-busy={loading} onClick={() => load(next)}>
              {loading ? "Loading…" : "Show more"}
            </button>
          )}
        </>
      )}
    </section>
  );
}

function Breadcrumbs({ dir }: { dir: string }) {
  const parts = dir ? dir.split("/") : [];
  return (
    <nav aria-label="Folder" class="breadcrumbs">
      <ol>
        <li>{parts.length === 0 ? <span aria-current="page">Workspace</span> : <a href="/files">Workspace</a>}</li>
        {parts.map((part, i) => {
          const path = parts.slice(0, i + 1).join("/");
          return <li key={path}>{i === parts.length - 1 ? <span aria-current="page">{part}</span> : <a href={filesHref(path)}>{part}</a>}</li>;
        })}
      </ol>
    </nav>
  );
}

/** The entries of a directory; names are the user's own text, shown as text only. */
function FileTable({ dir, entries, incomplete, onChanged }: { dir: string; entries: Entry[]; incomplete: Set<string>; onChanged: () => void }) {
  return (
    <table class="files">
      <caption class="visually-hidden">Contents of {dir || "the workspace"}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Size</th>
          <th scope="col">Modified</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((entry) => (
          <FileRow key={entry.name} path={childPath(dir, entry.name)} entry={entry} incomplete={incomplete.has(childPath(dir, entry.name))} onChanged={onChanged} />
        ))}
      </tbody>
    </table>
  );
}

/** `incomplete`: an upload of this page is still writing it, or failed partway (its Retry continues it). */
function FileRow({ path, entry, incomplete, onChanged }: { path: string; entry: Entry; incomplete: boolean; onChanged: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>();
  const run = async (call: () => Promise<Problem | undefined>) => {
    setBusy(true);
    setProblem(undefined);
    try {
      setProblem(await call());
    } catch (error) {
      setProblem(networkProblem(error));
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    const recursive = entry.type === "dir" ? "true" : undefined;
    const { error } = await api.DELETE("/v1/workspace/files/{path}", { params: { path: { path }, query: { recursive } }, pathSerializer: workspacePath });
    if (!error) onChanged();
    return error;
  };
  return (
    <tr>
      <td>
        {entry.type === "dir" ? <a href={filesHref(path)}>{entry.name}/</a> : <span>{entry.name}</span>}
        {entry.type === "symlink" && <span class="hint"> → {entry.target}</span>}
        {incomplete && entry.type === "file" && <span class="hint"> (upload not finished)</span>}
        <ProblemView problem={problem} />
      </td>
      <td>{entry.type === "file" ? size(entry.size) : entry.type === "dir" ? "folder" : entry.type}</td>
      <td>{new Date(entry.mtime).toLocaleString()}</td>
      <td class="row-actions">
        {entry.type === "file" && (
          <button type="button" class="link" disabled={busy} aria-label={`Download ${entry.name}`} onClick={() => run(() => downloadFile(path, entry.name))}>
            Download
          </button>
        )}
        {confirming ? (
          <span>
            {entry.type === "dir" ? "Delete this folder and everything in it?" : "Delete this file?"}{" "}
            <button type="button" class="danger" disabled={busy} onClick={() => run(remove)}>
              Delete {entry.name}
            </button>{" "}
            <button type="button" class="link" disabled={busy} onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </span>
        ) : (
          <button type="button" class="link" disabled={busy} aria-label={`Delete ${entry.name}`} onClick={() => setConfirming(true)}>
            Delete
          </button>
        )}
      </td>
    </tr>
  );
}

type UploadState = "waiting" | "sending" | "verifying" | "verified" | "failed" | "cancelled";

interface Upload {
  id: number;
  file: File;
  /** Where it goes in the workspace (the folder shown when it was chosen). */
  path: string;
  sent: number;
  state: UploadState;
  problem?: Problem;
  /** The stored size the last resume continued from. */
  resumedFrom?: number;
  sha256?: string;
  controller: AbortController;
}

/** Files sent at once: enough to hide each request's cost for small files, few enough not to split the link much. */
const PARALLEL_UPLOADS = 3;

/** Runs tasks at most `n` at a time, in the order they came. */
function limiter(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T,>(task: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

const inFlight = (state: UploadState) => state === "waiting" || state === "sending" || state === "verifying";

let uploadIds = 0;

/**
 * The page's uploads: each file sent, resumed after a failure and verified by transfer.ts, a few
 * at a time; they keep going while the person moves between folders.
 */
function useUploads(onFinished: () => void) {
  const [uploads, setUploads] = useState<Upload[]>([]);
  const current = useRef(uploads);
  current.current = uploads;
  // The folder shown when an upload ends is the one to list again, not the one it started in.
  const finished = useRef(onFinished);
  finished.current = onFinished;
  const [limit] = useState(() => limiter(PARALLEL_UPLOADS));
  const update = (id: number, change: Partial<Upload>) => setUploads((all) => all.map((u) => (u.id === id ? { ...u, ...change } : u)));

  const run = async (upload: Upload, resume: boolean) => {
    const { id, controller } = upload;
    let wrote = resume; // a retry continues a partial that is there already
    await limit(async () => {
      if (controller.signal.aborted) return;
      const outcome = await uploadFile(upload.path, upload.file, {
        signal: controller.signal,
        resume,
        onProgress: ({ sent, phase, resumedFrom }) => {
          wrote = true;
          update(id, { sent, state: phase, resumedFrom });
        },
      });
      if (outcome.verified) update(id, { state: "verified", sent: upload.file.size, sha256: outcome.sha256 });
      else if ("problem" in outcome) update(id, { state: "failed", problem: outcome.problem });
    });
    if (controller.signal.aborted) {
      // A cancelled upload leaves nothing behind that could pass for the file.
      const problem = wrote ? await removePartial(upload.path) : undefined;
      update(id, { state: problem ? "failed" : "cancelled", problem });
    }
    finished.current();
  };

  /** Starts uploads of `files` into `dir`; answers the names left out because an upload to the same path is under way. */
  const add = (files: File[], dir: string): string[] => {
    // Two uploads to one path would write into each other.
    const busy = new Set(current.current.filter((u) => inFlight(u.state)).map((u) => u.path));
    const added: Upload[] = [];
    const skipped: string[] = [];
    for (const file of files) {
      const path = childPath(dir, file.name);
      if (busy.has(path)) skipped.push(file.name);
      else {
        busy.add(path);
        added.push({ id: ++uploadIds, file, path, sent: 0, state: "waiting", controller: new AbortController() });
      }
    }
    setUploads((all) => [...all, ...added]);
    for (const upload of added) void run(upload, false);
    return skipped;
  };
  const retry = (upload: Upload) => {
    const again: Upload = { ...upload, state: "waiting", problem: undefined, controller: new AbortController() };
    setUploads((all) => all.map((u) => (u.id === upload.id ? again : u)));
    void run(again, true);
  };
  const cancel = (upload: Upload) => upload.controller.abort();
  const clearFinished = () => setUploads((all) => all.filter((u) => inFlight(u.state) || u.state === "failed"));
  return { uploads, add, retry, cancel, clearFinished };
}

type Uploads = ReturnType<typeof useUploads>;

const stateText: Record<UploadState, string> = {
  waiting: "waiting",
  sending: "sending",
  verifying: "checking its SHA-256",
  verified: "verified",
  failed: "failed",
  cancelled: "cancelled",
};

/**
 * A file input (the keyboard's way) and a drop zone around it; each file goes into the folder
 * shown, with its own progress and the whole batch's.
 */
function UploadArea({ dir, uploads }: { dir: string; uploads: Uploads }) {
  const [over, setOver] = useState(false);
  const [note, setNote] = useState("");
  const shown = uploads.uploads.filter((u) => u.state !== "cancelled");
  const total = shown.reduce((sum, u) => sum + u.file.size, 0);
  const sent = shown.reduce((sum, u) => sum + u.sent, 0);
  const verified = shown.filter((u) => u.state === "verified").length;
  const dropped = (transfer: DataTransfer | null) => {
    if (!transfer) return;
    // A dropped folder shows up as a file that cannot be read: only files are taken.
    const items = Array.from(transfer.items).filter((item) => item.kind === "file");
    const folders = items.filter((item) => item.webkitGetAsEntry?.()?.isDirectory).length;
    const files = items.filter((item) => !item.webkitGetAsEntry?.()?.isDirectory).flatMap((item) => item.getAsFile() ?? []);
    start(files, folders > 0 ? `Folders are not uploaded here (${folders} left out): drop the files in them, or use \`ozekai upload\`.` : "");
  };
  const start = (files: File[], why: string) => {
    const skipped = uploads.add(files, dir);
    setNote([why, skipped.length > 0 ? `Already uploading, so left out: ${skipped.join(", ")}.` : ""].filter(Boolean).join(" "));
  };
  return (
    <fieldset
      class={over ? "dropzone over" : "dropzone"}
      onDragOver={(event) => {
        event.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(event) => {
        event.preventDefault();
        setOver(false);
        dropped(event.dataTransfer);
      }}
    >
      <legend>Upload</legend>
      <label for="upload">Choose files, or drop them on this box</label>
      <input
        id="upload"
        type="file"
        multiple
        onChange={(event) => {
          const input = event.currentTarget;
          start(Array.from(input.files ?? []), "");
          input.value = "";
        }}
      />
      <p class="hint">Each file is checked against the SHA-256 the workspace computes of what it stored; an interrupted file continues where it stopped.</p>
      {note && <p role="status">{note}</p>}
      {shown.length > 0 && (
        <div class="upload-summary">
          <label for="uploads-total">All uploads</label> <progress id="uploads-total" max={total || 1} value={total ? sent : verified ? 1 : 0} />{" "}
          <span>
            {verified} of {shown.length} verified, {total ? Math.floor((100 * sent) / total) : 100} %
          </span>{" "}
          {uploads.uploads.some((u) => !inFlight(u.state) && u.state !== "failed") && (
            <button type="button" class="link" onClick={uploads.clearFinished}>
              Clear finished
            </button>
          )}
        </div>
      )}
      {uploads.uploads.length > 0 && (
        <ul class="uploads" aria-label="Uploads">
          {uploads.uploads.map((u) => (
            <UploadRow key={u.id} upload={u} uploads={uploads} />
          ))}
        </ul>
      )}
    </fieldset>
  );
}

function UploadRow({ upload: u, uploads }: { upload: Upload; uploads: Uploads }) {
  const bytes = u.file.size;
  const name = u.path;
  return (
    <li data-state={u.state}>
      <label for={`upload-${u.id}`}>{name}</label> <progress id={`upload-${u.id}`} max={bytes || 1} value={bytes ? u.sent : u.state === "verified" ? 1 : 0} />{" "}
      <span role="status">{stateText[u.state]}</span>
      {u.state === "sending" && (
        <span class="hint">
          {" "}
          {Math.floor((100 * u.sent) / (bytes || 1))} % of {size(bytes)}
        </span>
      )}
      {u.resumedFrom !== undefined && <span class="hint"> (resumed at byte {u.resumedFrom})</span>}
      {u.state === "verified" && <span class="hint"> (SHA-256 {u.sha256?.slice(0, 12)}…)</span>}{" "}
      {inFlight(u.state) && (
        <button type="button" class="link" aria-label={`Cancel upload of ${name}`} onClick={() => uploads.cancel(u)}>
          Cancel
        </button>
      )}
      {u.state === "failed" && (
        <button type="button" class="link" aria-label={`Retry upload of ${name}`} onClick={() => uploads.retry(u)}>
          Retry
        </button>
      )}
      <ProblemView problem={u.problem} />
    </li>
  );
}
