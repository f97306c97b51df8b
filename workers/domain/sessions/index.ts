/** GPU sessions: connect, disconnect, the views of a session, its sockets (shell, exec, port forwards), and the jobs that look after live ones. */
export { type ConnectResult, connect, STARTING_STALE_MS } from "./connect";
export { disconnect, disconnectEachForJob, endLiveSession } from "./disconnect";
export { findLiveSession, getSession, listSessions, type Session, SessionSchema, sessionView, type SessionView } from "./views";
export { MAX_FORWARDED_PORTS, openSessionExec, openSessionPort, openSessionShell } from "./sockets";
export { disconnectIdleSessions } from "./idle";
export { enforceUsageLimits } from "./usage-limit";
export { reconcileHost } from "./reconcile";
