import { useEffect, useState } from "preact/hooks";
import { api, type Problem, type Schemas, username } from "../api";
import { ApiForm, text } from "../components/form";
import { ProblemView } from "../components/problem";
import { dispositionName, saveBlob } from "../download";
import { useAction, useSignedInLoad } from "../hooks/load";
import { useTitle } from "../title";

type PrivacyRequest = Schemas["PrivacyRequest"];

const KINDS: Record<PrivacyRequest["kind"], string> = {
  access: "Access: a copy of what you hold about me",
  correction: "Correction of something you hold",
  deletion: "Deletion of something you hold",
  portability: "Portability: my data in a format I can take elsewhere",
  objection: "Objection to some processing",
  other: "Something else",
};

const day = (iso: string) => new Date(iso).toLocaleDateString();

/** The privacy policy (its text from /privacy, the version from GET /v1/policy) and, signed in, the rights of §7. */
export function PrivacyPage() {
  useTitle("Privacy");
  const [policy, setPolicy] = useState<{ meta: Schemas["Policy"]; text: string } | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  useEffect(() => {
    void (async () => {
      const [meta, body] = await Promise.all([api.GET("/v1/policy"), api.GET("/privacy", { parseAs: "text", headers: { Accept: "text/plain" } })]);
      if (meta.data && typeof body.data === "string") setPolicy({ meta: meta.data, text: body.data });
      else setProblem(meta.error ?? (body.error as Problem | undefined));
    })();
  }, []);
  return (
    <section aria-labelledby="privacy-title">
      <h1 id="privacy-title">Privacy</h1>
      <ProblemView problem={problem} />
      {username.value && <YourRights />}
      <h2>The privacy policy</h2>
      {policy === undefined ? (
        <p role="status">Loading…</p>
      ) : (
        <>
          <p data-testid="policy-version">
            Version {policy.meta.version}, published {day(policy.meta.publishedAt)}. {policy.meta.summary}
          </p>
          <pre class="policy">{policy.text}</pre>
        </>
      )}
    </section>
  );
}

function YourRights() {
  const account = useSignedInLoad(() => api.GET("/v1/account"));
  const requests = useSignedInLoad(() => api.GET("/v1/privacy/requests"));
  const { busy, problem, act } = useAction();
  const [objection, setObjection] = useState<string[] | null>(null);
  const objected = account.data?.privacy.aggregateAnalysisObjectedAt ?? null;

  const download = () =>
    act("export", async () => {
      const answer = await api.GET("/v1/privacy/export", { parseAs: "blob" });
      if (answer.data) saveBlob(dispositionName(answer.response, "ozekai-export.json"), answer.data as unknown as Blob);
      return answer;
    });

  return (
    <>
      <h2>Your data</h2>
      <p>Everything we hold about you, as one JSON document: every record of your account, sessions, usage, billing and sign-ins, and the server logs of your requests. Your files are not in it: they stay yours to download from your workspace.</p>
      <button type="button" disabled={busy !== null} onClick={download}>
        {busy === "export" ? "Preparing the export…" : "Download my data"}
      </button>
      <ProblemView problem={problem ?? requests.problem ?? account.problem} />

      <h2>Aggregate statistics</h2>
      <p>We count usage across all users (never one person's) to plan capacity. You can leave your usage out of those counts.</p>
      {account.data && (
        <ApiForm
          label={objected ? "Include my usage again" : "Leave my usage out"}
          busyLabel="Saving…"
          onSubmit={async () => {
            const { data, error } = await api.PUT("/v1/privacy/objections", { body: { aggregateAnalysis: !objected } });
            if (data) {
              setObjection(data.changes);
              await account.reload();
            }
            return error;
          }}
        >
          <p data-testid="aggregate-state">{objected ? `Left out since ${day(objected)}.` : "Included."}</p>
          {objection && objection.length > 0 && <p role="status">{objection.join(" ")}</p>}
        </ApiForm>
      )}

      <h2>Your requests</h2>
      <p>Ask for any right of the policy's section 7. We answer within 30 days; each request shows its due date.</p>
      <ApiForm
        label="Send the request"
        busyLabel="Sending…"
        onSubmit={async (form) => {
          const message = text(form, "message").trim();
          const { error } = await api.POST("/v1/privacy/requests", { body: { kind: text(form, "kind") as PrivacyRequest["kind"], ...(message ? { message } : {}) } });
          if (!error) await requests.reload();
          return error;
        }}
      >
        <div class="field">
          <label for="kind">What you ask for</label>
          <select id="kind" name="kind">
            {Object.entries(KINDS).map(([kind, label]) => (
              <option key={kind} value={kind}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="message">In your words (optional)</label>
          <textarea id="message" name="message" rows={3} maxLength={2000} />
        </div>
      </ApiForm>
      {requests.data === undefined ? (
        <p role="status">Loading…</p>
      ) : requests.data.requests.length === 0 ? (
        <p>No requests yet.</p>
      ) : (
        <div class="scroll">
          <table class="table" data-testid="privacy-requests">
            <caption>Your requests, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Asked</th>
                <th scope="col">Kind</th>
                <th scope="col">State</th>
                <th scope="col">Due</th>
                <th scope="col">Answer</th>
              </tr>
            </thead>
            <tbody>
              {requests.data.requests.map((r) => (
                <tr key={r.id}>
                  <td>{day(r.createdAt)}</td>
                  <td>{r.kind}</td>
                  <td>{r.state.replace("_", " ")}</td>
                  <td>{day(r.dueAt)}</td>
                  <td>{r.reason ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
