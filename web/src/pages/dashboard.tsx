import { useLocation } from "preact-iso";
import { useCallback, useEffect, useState } from "preact/hooks";
import { api, networkProblem, type Problem, type Schemas, username } from "../api";
import { ProblemView } from "../components/problem";
import { SessionMetrics } from "../components/session-metrics";
import { useTitle } from "../title";

type Account = Schemas["Account"];
type Workspace = Schemas["Workspace"];
type Session = NonNullable<Workspace["session"]>;

/** States that change on their own: polled fast until they settle. */
const MOVING = new Set(["starting", "stopping", "archiving", "restoring", "deleting"]);
const FAST_MS = 2000;
const SLOW_MS = 15_000;

const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : "—");
const minutesSince = (iso: string) => Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 60_000));
const mb = (bytes: number | null) => (bytes === null ? "not measured yet" : `${(bytes / 1e6).toFixed(1)} MB`);

/** The idle rule's time, said plainly: the job runs each minute, so a time past is "within a minute". */
function IdleWarning({ at }: { at: string }) {
  const time = new Date(at);
  return (
    <p class="warning" role="status" data-testid="idle-warning">
      Your session is idle: it will be disconnected{" "}
      {time.getTime() <= Date.now() ? (
        <>
          within a minute (<time dateTime={at}>{time.toLocaleTimeString()}</time>)
        </>
      ) : (
        <>
          at <time dateTime={at}>{time.toLocaleTimeString()}</time>
        </>
      )}{" "}
      unless it is used (a busy GPU or CPU, or a shell open). Your files are kept.
    </p>
  );
}

/** The one line the user most needs: is anything costing money right now. */
function billingLine(session: Session | null): string {
  if (session?.state === "running" && session.startedAt) return `Billing now: plan ${session.planId}, running for ${minutesSince(session.startedAt)} min. Disconnect to stop billing; your files are kept.`;
  if (session?.state === "starting") return "Starting: billing begins when the container runs.";
  if (session?.state === "stopping") return "Stopping: billing ends now.";
  return "Nothing is billing now.";
}

export function DashboardPage() {
  useTitle("Dashboard");
  const { route } = useLocation();
  const [account, setAccount] = useState<Account | null>(null);
  const [workspace, setWorkspace] = useState<Workspace | null | undefined>(undefined);
  const [problem, setProblem] = useState<Problem | undefined>();
  const [busy, setBusy] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const [a, w] = await Promise.all([api.GET("/v1/account"), api.GET("/v1/workspace")]);
      if (a.response.status === 401) return route("/login");
      if (a.data) setAccount(a.data);
      // 404: no workspace yet — the first connect makes one.
      setWorkspace(w.data ?? (w.response.status === 404 ? null : undefined));
      setProblem(a.error ?? (w.response.status === 404 ? undefined : w.error));
    } catch (error) {
      setProblem(networkProblem(error));
    }
  }, [route]);

  const moving = MOVING.has(workspace?.session?.state ?? "") || MOVING.has(workspace?.state ?? "");
  useEffect(() => {
    if (!username.value) return route("/login");
    void load();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") void load();
    }, moving ? FAST_MS : SLOW_MS);
    return () => clearInterval(timer);
  }, [load, moving, route]);

  const act = async (name: string, call: () => Promise<{ error?: Problem }>) => {
    setBusy(name);
    setProblem(undefined);
    try {
      const { error } = await call();
      setProblem(error);
      await load();
    } catch (error) {
      setProblem(networkProblem(error));
    } finally {
      setBusy(null);
    }
  };

  const session = workspace?.session ?? null;
  const live = session !== null && session.state !== "ended" && session.state !== "failed";
  return (
    <section aria-labelledby="dash-title">
      <h1 id="dash-title">Dashboard</h1>
      <p class="billing" role="status" aria-live="polite">
        {billingLine(session)}
      </p>
      <ProblemView problem={problem} />
      {account === null ? (
        <p role="status">Loading…</p>
      ) : (
        <>
          <h2>Session</h2>
          {session && live ? (
            <dl class="facts">
              <dt>State</dt>
              <dd data-testid="session-state">{session.state}</dd>
              <dt>Plan</dt>
              <dd>{session.planId}</dd>
              <dt>Image</dt>
              <dd data-testid="session-image">{session.image}</dd>
              <dt>Started</dt>
              <dd>{when(session.startedAt)}</dd>
              <dt>Resources</dt>
              <dd>
                {session.resources.gpuCount > 0 ? `${session.resources.gpuCount} × ${session.resources.gpuType}, ` : "no GPU, "}
                {session.resources.cpus} CPUs, {session.resources.memoryMb} MB memory
              </dd>
            </dl>
          ) : (
            <p data-testid="session-state">No session is running.</p>
          )}
          {session?.state === "running" && (
            <>
              {session.idleDisconnectAt && <IdleWarning at={session.idleDisconnectAt} />}
              <p>
                Your session is ready: <a href={`/sessions/${session.id}/terminal`}>open its terminal</a> or <a href="/files">browse its files</a>.
              </p>
              <SessionMetrics sessionId={session.id} />
            </>
          )}
          {session?.state === "starting" && <p role="status">Starting your container{workspace?.state === "restoring" ? " after the workspace is restored from cold storage" : ""}…</p>}
          {!account.canStartSessions && (
            <p class="note">
              You cannot start a session yet: {account.restrictions.join("; ")}. See <a href="/billing">plans and billing</a>.
            </p>
          )}
          <div class="actions">
            <button type="button" disabled={busy !== null || live || !account.canStartSessions} onClick={() => act("connect", () => api.POST("/v1/sessions"))}>
              {busy === "connect" ? "Connecting…" : "Connect"}
            </button>
            <button
              type="button"
              disabled={busy !== null || !session || session.state !== "running"}
              onClick={() => session && act("disconnect", () => api.POST("/v1/sessions/{id}/disconnect", { params: { path: { id: session.id } } }))}
            >
              {busy === "disconnect" ? "Disconnecting…" : "Disconnect"}
            </button>
          </div>
          <h2>Workspace</h2>
          {workspace === undefined ? (
            <p role="status">Loading…</p>
          ) : workspace === null ? (
            <p>No workspace yet: your first connect creates one.</p>
          ) : (
            <>
              <dl class="facts">
                <dt>State</dt>
                <dd data-testid="workspace-state">{workspace.state}</dd>
                <dt>Size</dt>
                <dd>{mb(workspace.sizeBytes)}</dd>
                <dt>Last activity</dt>
                <dd>{when(workspace.lastActivityAt)}</dd>
                <dt>Deleted for inactivity on</dt>
                <dd>{workspace.deletesAt ? when(workspace.deletesAt) : "not while you are active"}</dd>
                <dt>SSH host key</dt>
                <dd data-testid="workspace-ssh-host-key">{workspace.sshHostKey ? <code>{workspace.sshHostKey.fingerprint} (ED25519)</code> : "none yet"}</dd>
              </dl>
              {workspace.transfer && (
                <p>
                  <label for="transfer">{workspace.state === "restoring" ? "Restoring from cold storage" : "Moving to cold storage"}</label>{" "}
                  <progress id="transfer" max={workspace.transfer.totalBytes ?? undefined} value={workspace.transfer.bytes} />
                </p>
              )}
              <DestroyForm username={account.username} disabled={busy !== null} onDestroy={() => act("destroy", () => api.DELETE("/v1/workspace"))} />
            </>
          )}
        </>
      )}
    </section>
  );
}

/** Destroying deletes the workspace everywhere: the user types their username to confirm. */
function DestroyForm({ username: name, disabled, onDestroy }: { username: string; disabled: boolean; onDestroy: () => void }) {
  const [typed, setTyped] = useState("");
  return (
    <form
      class="danger"
      onSubmit={(event) => {
        event.preventDefault();
        if (typed === name) onDestroy();
      }}
    >
      <h3>Destroy the workspace</h3>
      <p>This ends any session and deletes every file of the workspace, on the host and in cold storage. It cannot be undone.</p>
      <label for="confirm-destroy">
        Type your username (<code>{name}</code>) to confirm
      </label>
      <input id="confirm-destroy" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} autoComplete="off" />
      <button type="submit" class="danger" disabled={disabled || typed !== name}>
        Destroy
      </button>
    </form>
  );
}
