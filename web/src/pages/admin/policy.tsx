import { useState } from "preact/hooks";
import { api } from "../../api";
import { ApiForm, Field, text } from "../../components/form";
import { ProblemView } from "../../components/problem";
import { useSignedInLoad } from "../../hooks/load";
import { useTitle } from "../../title";
import { day } from "./format";
import { AdminNav } from "./nav";

/** Policy §11: every published version, and publishing a newer one (a material one is emailed to every verified address, once). */
export function AdminPolicyPage() {
  useTitle("Policy versions");
  const versions = useSignedInLoad(() => api.GET("/v1/admin/policy-versions"));
  const [published, setPublished] = useState<string | null>(null);
  const list = versions.data?.versions;
  return (
    <section aria-labelledby="policy-title">
      <h1 id="policy-title">Policy versions</h1>
      <AdminNav />
      <ProblemView problem={versions.problem} />
      {published && (
        <p class="note" role="status">
          {published}
        </p>
      )}
      {list === undefined ? (
        !versions.problem && <p role="status">Loading…</p>
      ) : (
        <>
          <div class="scroll">
            <table class="table" data-testid="policy-versions">
              <caption>Published versions, newest first; the newest is in force</caption>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Published</th>
                  <th scope="col">Material</th>
                  <th scope="col">Summary</th>
                  <th scope="col">Business transfer</th>
                  <th scope="col">Text</th>
                </tr>
              </thead>
              <tbody>
                {list.map((v) => (
                  <tr key={v.version}>
                    <td>{v.version}</td>
                    <td>{day(v.publishedAt)}</td>
                    <td>{v.material ? "yes: emailed" : "no"}</td>
                    <td>{v.summary}</td>
                    <td>{v.transfer ?? "—"}</td>
                    <td>
                      <details>
                        <summary>{v.text.length.toLocaleString()} characters</summary>
                        <pre class="policy">{v.text}</pre>
                      </details>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <h2>Publish a new version</h2>
          <p>Its date must be after the current version's. Publishing cannot be undone; a material change is emailed to every account with a verified address.</p>
          <ApiForm
            label="Publish"
            busyLabel="Publishing…"
            onSubmit={async (form) => {
              const transfer = text(form, "transfer").trim();
              const { data, error } = await api.POST("/v1/admin/policy-versions", {
                body: { version: text(form, "version"), material: form.get("material") === "on", summary: text(form, "summary"), text: text(form, "policyText"), transfer: transfer || null },
              });
              if (data) {
                setPublished(`Version ${data.version} is published${data.material ? ": its notice is emailed in batches from now on" : ""}.`);
                await versions.reload();
              }
              return error;
            }}
          >
            <Field name="version" label="Version (its “Last updated” date)" type="date" />
            <div class="check">
              <input id="material" name="material" type="checkbox" />
              <label for="material">A material change: email every verified address</label>
            </div>
            <div class="field">
              <label for="summary">What changed (the notice email says it)</label>
              <textarea id="summary" name="summary" rows={2} maxLength={2000} required />
            </div>
            <div class="field">
              <label for="policyText">The full text</label>
              <textarea id="policyText" name="policyText" rows={12} maxLength={100_000} required defaultValue={list[0]?.text ?? ""} />
            </div>
            <div class="field">
              <label for="transfer">A merger, acquisition or sale this version announces (optional; needs a material change)</label>
              <textarea id="transfer" name="transfer" rows={2} maxLength={2000} />
            </div>
          </ApiForm>
        </>
      )}
    </section>
  );
}
