import { useLocation } from "preact-iso";
import { useCallback, useEffect, useState } from "preact/hooks";
import { api, networkProblem, type Problem, type Schemas, workspacePath } from "../api";
import { ProblemView } from "../components/problem";
import { childPath, downloadFile, uploadFile } from "../files/transfer";
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
  return (
    <section aria-labelledby="files-title">
      <h1 id="files-title">Files</h1>
      <Breadcrumbs dir={dir} />
      <ProblemView problem={problem} />
      {noWorkspace ? (
        <p>No workspace yet: your first connect creates one. Connect from the <a href="/dashboard">dashboard</a>.</p>
      ) : (
        <>
          <UploadArea dir={dir} onUploaded={() => load()} />
          {entries === undefined ? (
            <p role="status">Loading…</p>
          ) : entries.length === 0 ? (
            <p>This folder is empty.</p>
          ) : (
            <FileTable dir={dir} entries={entries} onChanged={() => load()} />
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
function FileTable({ dir, entries, onChanged }: { dir: string; entries: Entry[]; onChanged: () => void }) {
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
          <FileRow key={entry.name} path={childPath(dir, entry.name)} entry={entry} onChanged={onChanged} />
        ))}
      </tbody>
    </table>
  );
}

function FileRow({ path, entry, onChanged }: { path: string; entry: Entry; onChanged: () => void }) {
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

interface Upload {
  id: number;
  name: string;
  total: number;
  sent: number;
  problem?: Problem;
  done: boolean;
}

let uploadIds = 0;

/** A file input and a drop zone; each file is uploaded into the folder shown, with its progress. */
function UploadArea({ dir, onUploaded }: { dir: string; onUploaded: () => void }) {
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [over, setOver] = useState(false);
  const update = (id: number, change: Partial<Upload>) => setUploads((all) => all.map((u) => (u.id === id ? { ...u, ...change } : u)));
  const start = async (files: FileList | null) => {
    for (const file of Array.from(files ?? [])) {
      const id = ++uploadIds;
      setUploads((all) => [...all, { id, name: file.name, total: file.size, sent: 0, done: false }]);
      try {
        const { problem } = await uploadFile(childPath(dir, file.name), file, (sent) => update(id, { sent }));
        update(id, { done: true, problem, sent: problem ? 0 : file.size });
      } catch (error) {
        update(id, { done: true, problem: networkProblem(error) });
      }
      onUploaded();
    }
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
        void start(event.dataTransfer?.files ?? null);
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
          void start(input.files).then(() => {
            input.value = "";
          });
        }}
      />
      {uploads.length > 0 && (
        <ul class="uploads" aria-label="Uploads">
          {uploads.map((u) => (
            <li key={u.id}>
              <label for={`upload-${u.id}`}>{u.name}</label> <progress id={`upload-${u.id}`} max={u.total || 1} value={u.total ? u.sent : u.done ? 1 : 0} />{" "}
              <span role="status">{u.problem ? "failed" : u.done ? "uploaded" : `${Math.round((100 * u.sent) / (u.total || 1))} %`}</span>
              <ProblemView problem={u.problem} />
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}
