import type { paths } from "@ozekai/client";
import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api } from "../../api";
import { ApiForm, Field, text } from "../../components/form";
import { ProblemView } from "../../components/problem";
import { useAction, useSignedInLoad } from "../../hooks/load";
import { useTitle } from "../../title";
import { AdminNav } from "./nav";

type GrantablePlan = NonNullable<NonNullable<paths["/v1/admin/users/{userId}/plan"]["put"]["requestBody"]>["content"]["application/json"]["planId"]>;

/** One account by its id (the queue links here with `?user=`): its granted plan, and the minor flag. */
export function AdminAccountsPage() {
  useTitle("Plans and minors");
  const { query, route } = useLocation();
  const userId = query.user ?? "";
  const [deleted, setDeleted] = useState<string | null>(null);
  return (
    <section aria-labelledby="accounts-title">
      <h1 id="accounts-title">Plans and minors</h1>
      <AdminNav />
      <p>An account by its id (each privacy request names its account's). Admins grant plans and delete the account of someone under 18; no admin page reaches a workspace or its files.</p>
      <form
        class="form inline"
        onSubmit={(event) => {
          event.preventDefault();
          setDeleted(null);
          const id = text(new FormData(event.currentTarget), "user").trim();
          route(id ? `/admin/accounts?user=${encodeURIComponent(id)}` : "/admin/accounts");
        }}
      >
        <Field name="user" label="Account id" defaultValue={userId} autoComplete="off" />
        <button type="submit">Open the account</button>
      </form>
      {deleted && (
        <p class="note" role="status">
          {deleted}
        </p>
      )}
      {userId && !deleted && (
        <Account
          key={userId}
          userId={userId}
          onDeleted={() => setDeleted(`Account ${userId} is deleted. Its workspace and its Stripe customer go in the background; the address was told.`)}
        />
      )}
    </section>
  );
}

function Account({ userId, onDeleted }: { userId: string; onDeleted: () => void }) {
  const grant = useSignedInLoad(() => api.GET("/v1/admin/users/{userId}/plan", { params: { path: { userId } } }), [userId]);
  const plans = useSignedInLoad(() => api.GET("/v1/plans"));
  const [saved, setSaved] = useState<string | null>(null);
  const problem = grant.problem ?? plans.problem;
  if (grant.data === undefined || plans.data === undefined) return problem ? <ProblemView problem={problem} /> : <p role="status">Loading…</p>;
  const current = grant.data.planId;
  return (
    <>
      <h2>Plan grant</h2>
      <p data-testid="plan-grant">
        Account <code>{userId}</code>: {current ? `plan ${current} granted (it wins over any subscription).` : "no plan granted (a subscription may still entitle it)."}
      </p>
      {saved && (
        <p class="note" role="status">
          {saved}
        </p>
      )}
      <ApiForm
        label="Save the grant"
        busyLabel="Saving…"
        onSubmit={async (form) => {
          const planId = text(form, "planId");
          const { data, error } = await api.PUT("/v1/admin/users/{userId}/plan", { params: { path: { userId } }, body: { planId: planId ? (planId as GrantablePlan) : null } });
          if (data) {
            setSaved(data.planId ? `Granted plan ${data.planId}.` : "The grant is revoked.");
            await grant.reload();
          }
          return error;
        }}
      >
        <div class="field">
          <label for="planId">Plan</label>
          <select id="planId" name="planId" key={current ?? ""}>
            <option value="" selected={current === null}>
              No plan (revoke the grant)
            </option>
            {plans.data.plans.map((p) => (
              <option key={p.id} value={p.id} selected={p.id === current}>
                {p.name} ({p.id})
              </option>
            ))}
          </select>
        </div>
      </ApiForm>
      <MinorForm userId={userId} onDeleted={onDeleted} />
    </>
  );
}

/** Policy §10: deleted at once, so the id is typed again and a reason given (kept in the audit row). */
function MinorForm({ userId, onDeleted }: { userId: string; onDeleted: () => void }) {
  const [typed, setTyped] = useState("");
  const [reason, setReason] = useState("");
  const { busy, problem, act } = useAction();
  return (
    <form
      class="danger"
      onSubmit={(event) => {
        event.preventDefault();
        if (typed === userId) void act("minor", () => api.POST("/v1/admin/users/{userId}/minor", { params: { path: { userId } }, body: { reason } }), onDeleted);
      }}
    >
      <h2>The account of someone under 18</h2>
      <p>
        Our services are not for anyone under 18 (policy §10). Flagging the account deletes it at once, as its owner deleting it would: every sign-in ends, the workspace and files are deleted, the
        address is told. It cannot be undone.
      </p>
      <label for="minorReason">Why the account appears to belong to a minor</label>
      <textarea id="minorReason" rows={2} maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} required />
      <label for="confirmMinor">
        Type the account id (<code>{userId}</code>) to confirm
      </label>
      <input id="confirmMinor" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} autoComplete="off" />
      <ProblemView problem={problem} />
      <button type="submit" class="danger" disabled={typed !== userId || reason.trim() === "" || busy !== null} aria-busy={busy !== null}>
        {busy ? "Deleting…" : "Delete the account as a minor's"}
      </button>
    </form>
  );
}
