import { useEffect, useRef, useState } from "preact/hooks";
import { api, heldAccessToken, networkProblem, type Problem, type Schemas } from "../api";
import { ProblemView } from "../components/problem";
import { useSignedIn } from "../signed-in";
import type { Console } from "../terminal/console";
import { CLOSE, openShell, type ShellSocket } from "../terminal/shell-socket";
import { useTitle } from "../title";

type Session = Schemas["Session"];

/** Where the page is: finding the session, waiting for it, connected, or closed (and why). */
type Phase =
  | { kind: "looking" }
  | { kind: "no-session" }
  | { kind: "starting" }
  | { kind: "connecting" }
  | { kind: "open" }
  | { kind: "closed"; why: "sign-in" | "ended" | "lifetime" | "exited" | "refused" | "lost" };

const STARTING_POLL_MS = 2000;

const CLOSED_TEXT = {
  "sign-in": "Your sign-in has ended, so the shell was closed. Sign in again to reconnect.",
  ended: "The session has ended: the shell is closed. Connect again from the dashboard; your files are kept.",
  lifetime: "The shell reached its longest lifetime and was closed. Reconnect to open a new one.",
  exited: "The shell exited.",
  refused: "The shell could not be opened.",
  lost: "The connection to the shell was lost.",
} as const;

/** The session to show: the one in the address, or the workspace's live one. */
async function findSession(id: string | undefined): Promise<{ session?: Session; problem?: Problem }> {
  if (id) {
    const { data, error } = await api.GET("/v1/sessions/{id}", { params: { path: { id } } });
    return { session: data, problem: error };
  }
  const { data, error, response } = await api.GET("/v1/workspace");
  if (response.status === 404) return {};
  return { session: data?.session ?? undefined, problem: error };
}

export function TerminalPage({ params }: { params?: { id?: string } }) {
  useTitle("Terminal");
  const signedIn = useSignedIn();
  const id = params?.id;
  const element = useRef<HTMLElement>(null);
  const view = useRef<Console | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: "looking" });
  const [problem, setProblem] = useState<Problem | undefined>();
  const [size, setSize] = useState<{ cols: number; rows: number } | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!signedIn) return;
    let socket: ShellSocket | undefined;
    let left = false;
    let poll: ReturnType<typeof setTimeout> | undefined;
    const disposers: (() => void)[] = [];

    const closedBecause = async (code: number, opened: boolean): Promise<Phase> => {
      if (code === CLOSE.signInEnded) return { kind: "closed", why: "sign-in" };
      // Whatever the code, a session that is no longer running explains it best.
      const { session, problem: p } = await findSession(id);
      if (p) setProblem(p);
      if (session?.state !== "running") return { kind: "closed", why: "ended" };
      if (code === CLOSE.lifetimeReached) return { kind: "closed", why: "lifetime" };
      if (code === CLOSE.normal && opened) return { kind: "closed", why: "exited" };
      return { kind: "closed", why: opened ? "lost" : "refused" };
    };

    const connect = async (session: Session) => {
      setPhase({ kind: "connecting" });
      const { createConsole } = await import("../terminal/console");
      if (left || !element.current) return;
      view.current ??= createConsole(element.current);
      const { terminal } = view.current;
      // The token is read after the call above, which renewed it if it had expired.
      const token = heldAccessToken();
      if (!token) return;
      socket = openShell(session.id, token, { cols: terminal.cols, rows: terminal.rows }, {
        onOpen: () => {
          setPhase({ kind: "open" });
          terminal.focus();
        },
        onOutput: (bytes) => terminal.write(bytes),
        onClose: (code, _reason, opened) => {
          if (left) return;
          void closedBecause(code, opened).then((next) => !left && setPhase(next));
        },
      });
      const data = terminal.onData((text) => socket?.send(text));
      const binary = terminal.onBinary((text) => socket?.send(Uint8Array.from(text, (c) => c.charCodeAt(0))));
      const resize = terminal.onResize(({ cols, rows }) => {
        setSize({ cols, rows });
        socket?.resize(cols, rows);
      });
      setSize({ cols: terminal.cols, rows: terminal.rows });
      disposers.push(() => data.dispose(), () => binary.dispose(), () => resize.dispose());
    };

    const look = async () => {
      setProblem(undefined);
      try {
        const { session, problem: p } = await findSession(id);
        if (left) return;
        if (p) {
          setProblem(p);
          return setPhase({ kind: "closed", why: "refused" });
        }
        if (session?.state === "starting") {
          setPhase({ kind: "starting" });
          poll = setTimeout(look, STARTING_POLL_MS);
          return;
        }
        if (session?.state !== "running") return setPhase({ kind: "no-session" });
        await connect(session);
      } catch (error) {
        if (left) return;
        setProblem(networkProblem(error));
        setPhase({ kind: "closed", why: "refused" });
      }
    };
    void look();
    return () => {
      left = true;
      clearTimeout(poll);
      for (const dispose of disposers) dispose();
      socket?.close();
    };
  }, [id, attempt, signedIn]);

  // The terminal goes with the page.
  useEffect(
    () => () => {
      view.current?.dispose();
      view.current = null;
    },
    [],
  );

  if (!signedIn) return null;
  const showTerminal = phase.kind === "connecting" || phase.kind === "open" || phase.kind === "closed";
  return (
    <section aria-labelledby="terminal-title" class="terminal-page">
      <h1 id="terminal-title">Terminal</h1>
      <p role="status" aria-live="polite" data-testid="terminal-status">
        {phase.kind === "looking" && "Looking for your session…"}
        {phase.kind === "no-session" && (
          <>
            No session is running. Connect from the <a href="/dashboard">dashboard</a> first.
          </>
        )}
        {phase.kind === "starting" && "Your session is starting; the shell opens when it runs."}
        {phase.kind === "connecting" && "Opening the shell…"}
        {phase.kind === "open" && "Connected to your session's shell."}
        {phase.kind === "closed" && CLOSED_TEXT[phase.why]}
      </p>
      <ProblemView problem={problem} />
      {phase.kind === "closed" && (
        <div class="actions">
          {phase.why === "sign-in" ? (
            <a href="/login">Sign in</a>
          ) : (
            <button type="button" onClick={() => setAttempt((n) => n + 1)}>
              Reconnect
            </button>
          )}
          {phase.why === "ended" && <a href="/dashboard">Dashboard</a>}
        </div>
      )}
      <section ref={element} class="terminal" hidden={!showTerminal} aria-label="Shell" />
      {size && showTerminal && (
        <p class="hint" data-testid="terminal-size">
          {size.cols} columns × {size.rows} rows
        </p>
      )}
    </section>
  );
}
