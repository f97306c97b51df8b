import { useState } from "preact/hooks";
import { api, type Schemas } from "../../api";
import { ProblemView } from "../../components/problem";
import { useAction, useSignedInLoad } from "../../hooks/load";
import { useTitle } from "../../title";
import { day, moment } from "./format";
import { AdminNav } from "./nav";

type QueuedRequest = Schemas["QueuedPrivacyRequest"];
type Decision = "in_progress" | "completed" | "rejected";

const STATE_NAMES: Record<QueuedRequest["state"], string> = { open: "open", in_progress: "in progress", completed: "completed", rejected: "rejected" };

/** The privacy request queue (policy §7: answered within 30 days), overdue and soonest due first, as the API orders it. */
export function AdminRequestsPage() {
  useTitle("Privacy requests");
  const queue = useSignedInLoad(() => api.GET("/v1/admin/privacy-requests"));
  const [done, setDone] = useState<string | null>(null);
  const requests = queue.data?.requests;
  return (
    <section aria-labelledby="requests-title">
      <h1 id="requests-title">Privacy requests</h1>
      <AdminNav />
      <p>Open and in-progress requests, overdue first, then the soonest due. Each is due 30 days after it was made; the user is emailed at every change.</p>
      {done && (
        <p class="note" role="status">
          {done}
        </p>
      )}
      <ProblemView problem={queue.problem} />
      {requests === undefined ? (
        !queue.problem && <p role="status">Loading…</p>
      ) : requests.length === 0 ? (
        <p>No open requests.</p>
      ) : (
        <ol class="queue" data-testid="request-queue">
          {requests.map((r) => (
            <RequestCard
              key={r.id}
              request={r}
              onDecided={(next) => {
                setDone(`Request ${next.id} is now ${STATE_NAMES[next.state]}; the user was emailed.`);
                return queue.reload();
              }}
            />
          ))}
        </ol>
      )}
    </section>
  );
}

function RequestCard({ request: r, onDecided }: { request: QueuedRequest; onDecided: (next: QueuedRequest) => unknown }) {
  const { busy, problem, act } = useAction();
  const [reason, setReason] = useState("");
  const decide = (state: Decision) =>
    act(state, async () => {
      const answer = await api.PATCH("/v1/admin/privacy-requests/{id}", { params: { path: { id: r.id } }, body: { state, ...(state === "rejected" ? { reason } : {}) } });
      if (answer.data) await onDecided(answer.data);
      return answer;
    });
  const titleId = `request-${r.id}`;
  return (
    <li class={r.overdue ? "card overdue" : "card"} data-testid="queued-request">
      <h2 id={titleId}>
        {r.kind}, due {day(r.dueAt)}
        {r.overdue && <span class="badge"> overdue</span>}
      </h2>
      <dl class="facts">
        <dt>State</dt>
        <dd>{STATE_NAMES[r.state]}</dd>
        <dt>Asked</dt>
        <dd>{moment(r.createdAt)}</dd>
        <dt>Due</dt>
        <dd>{moment(r.dueAt)}</dd>
        <dt>Last change</dt>
        <dd>{moment(r.updatedAt)}</dd>
        <dt>Account</dt>
        <dd>
          <code>{r.userId}</code> (<a href={`/admin/accounts?user=${encodeURIComponent(r.userId)}`}>plans and minors</a>)
        </dd>
        <dt>Request id</dt>
        <dd>
          <code>{r.id}</code>
        </dd>
        <dt>Message</dt>
        <dd class="message">{r.message ?? "—"}</dd>
      </dl>
      <div class="actions">
        {r.state === "open" && (
          <button type="button" disabled={busy !== null} onClick={() => decide("in_progress")}>
            {busy === "in_progress" ? "Saving…" : "Mark in progress"}
          </button>
        )}
        <button type="button" disabled={busy !== null} onClick={() => decide("completed")}>
          {busy === "completed" ? "Saving…" : "Mark completed"}
        </button>
      </div>
      <div class="field">
        <label for={`reason-${r.id}`}>Why it is rejected (the user is told)</label>
        <textarea id={`reason-${r.id}`} rows={2} maxLength={2000} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      </div>
      <div class="actions">
        <button type="button" class="danger" disabled={busy !== null || reason.trim() === ""} onClick={() => decide("rejected")}>
          {busy === "rejected" ? "Saving…" : "Reject"}
        </button>
      </div>
      <ProblemView problem={problem} />
    </li>
  );
}
