import { useMemo, useState } from "preact/hooks";
import { api, type Schemas } from "../api";
import { Chart, PALETTE } from "../components/chart";
import { ApiForm } from "../components/form";
import { ProblemView } from "../components/problem";
import { useSignedInLoad } from "../hooks/load";
import { saveBlob } from "../download";
import { useTitle } from "../title";
import { dollars } from "./billing";

type Usage = Schemas["Usage"];
type UsageSession = Usage["sessions"][number];

const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const hours = (seconds: number) => (seconds / 3600).toFixed(2);

/** This UTC month so far: its first day to tomorrow. */
function thisMonth() {
  const now = new Date();
  return { from: isoDay(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)), to: isoDay(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)) };
}

/** Session and GPU hours per UTC day of the window, each session's time split across the days it ran. */
export function perDay(usage: Usage, nowMs = Date.now()) {
  const from = Date.parse(usage.from);
  const to = Date.parse(usage.to);
  const days = Math.ceil((to - from) / DAY_MS);
  const session = new Array<number>(days).fill(0);
  const gpu = new Array<number>(days).fill(0);
  for (const s of usage.sessions) {
    const start = Math.max(from, Date.parse(s.startedAt));
    const end = Math.min(to, s.endedAt ? Date.parse(s.endedAt) : nowMs);
    for (let t = start; t < end; ) {
      const day = Math.floor((t - from) / DAY_MS);
      const dayEnd = Math.min(end, from + (day + 1) * DAY_MS);
      session[day] = (session[day] ?? 0) + (dayEnd - t) / 3_600_000;
      gpu[day] = (gpu[day] ?? 0) + ((dayEnd - t) / 3_600_000) * s.gpuCount;
      t = dayEnd;
    }
  }
  const xs = Array.from({ length: days }, (_, i) => (from + i * DAY_MS) / 1000);
  return [xs, session, gpu] as [number[], number[], number[]];
}

const CSV_COLUMNS = ["id", "planId", "gpuType", "gpuCount", "state", "startedAt", "endedAt", "seconds", "gpuSeconds", "costCents", "avgGpuUtilizationPercent", "maxGpuUtilizationPercent", "maxGpuMemoryUsedMb"] as const;

export function usageCsv(sessions: UsageSession[]): string {
  const cell = (value: unknown) => {
    const text = value === null || value === undefined ? "" : String(value);
    return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const rows = sessions.map((s) => {
    const flat: Record<string, unknown> = { ...s, ...s.metrics };
    return CSV_COLUMNS.map((c) => cell(flat[c])).join(",");
  });
  return `${[CSV_COLUMNS.join(","), ...rows].join("\n")}\n`;
}

export function UsagePage() {
  useTitle("Usage");
  const [range, setRange] = useState(thisMonth);
  const usage = useSignedInLoad(() => api.GET("/v1/usage", { params: { query: range } }), [range.from, range.to]);
  const u = usage.data;
  const chartData = useMemo(() => (u ? perDay(u) : null), [u]);
  return (
    <section aria-labelledby="usage-title">
      <h1 id="usage-title">Usage</h1>
      <ProblemView problem={usage.problem} />
      {u === undefined ? (
        <p role="status">Loading…</p>
      ) : (
        <>
          <h2>This month</h2>
          <p data-testid="month-usage">
            {hours(u.thisMonth.usedSeconds)} hours used in {u.thisMonth.month}
            {u.thisMonth.limitHours === null ? ", no limit set." : ` of your ${u.thisMonth.limitHours}-hour limit (at the limit: ${u.thisMonth.limitAction === "disconnect" ? "sessions are disconnected" : "an email only"}).`}
            {u.thisMonth.sessionsRefused && " The limit is reached: new sessions are refused until the month ends or you raise the limit."}
          </p>
          <LimitForm usage={u} onSaved={usage.reload} />
          <h2>Sessions</h2>
          <form
            class="inline"
            onSubmit={(event) => {
              event.preventDefault();
              const form = new FormData(event.currentTarget);
              setRange({ from: String(form.get("from")), to: String(form.get("to")) });
            }}
          >
            <label for="from">From</label>
            <input id="from" name="from" type="date" defaultValue={range.from} required />
            <label for="to">To (not included)</label>
            <input id="to" name="to" type="date" defaultValue={range.to} required />
            <button type="submit">Show</button>
          </form>
          {chartData && (
            <Chart
              label={`Session hours and GPU hours per day from ${range.from} to ${range.to}; the numbers are in the table below`}
              series={[
                { label: "Session hours", stroke: PALETTE[0]! },
                { label: "GPU hours", stroke: PALETTE[1]! },
              ]}
              data={chartData}
              bars
              units={{ left: "hours" }}
            />
          )}
          {u.sessions.length === 0 ? (
            <p>No sessions in this window.</p>
          ) : (
            <div class="scroll">
              <table class="table" data-testid="usage-table">
                <caption>
                  {u.sessions.length} sessions{u.truncated ? " (the first ones only: narrow the window for the rest)" : ""}; costs are estimates at each plan's hourly price — the Stripe invoice is what is
                  charged
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Started</th>
                    <th scope="col">Plan</th>
                    <th scope="col" class="number">
                      Hours
                    </th>
                    <th scope="col" class="number">
                      GPU hours
                    </th>
                    <th scope="col" class="number">
                      Mean GPU use
                    </th>
                    <th scope="col" class="number">
                      Cost
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {u.sessions.map((s) => (
                    <tr key={s.id}>
                      <td>{new Date(s.startedAt).toLocaleString()}</td>
                      <td>{s.planId}</td>
                      <td class="number">{hours(s.seconds)}</td>
                      <td class="number">{hours(s.gpuSeconds)}</td>
                      <td class="number">{s.metrics.avgGpuUtilizationPercent === null ? "—" : `${s.metrics.avgGpuUtilizationPercent.toFixed(0)} %`}</td>
                      <td class="number">{s.costCents === null ? "—" : dollars(s.costCents)}</td>
                    </tr>
                  ))}
                </tbody>
                <tfoot>
                  <tr>
                    <th scope="row" colSpan={2}>
                      Total
                    </th>
                    <td class="number">{hours(u.totals.seconds)}</td>
                    <td class="number">{hours(u.totals.gpuSeconds)}</td>
                    <td />
                    <td class="number" data-testid="usage-total-cost">
                      {dollars(u.totals.costCents)}
                    </td>
                  </tr>
                </tfoot>
              </table>
            </div>
          )}
          <button type="button" onClick={() => saveBlob(`ozekai-usage-${range.from}-${range.to}.csv`, new Blob([usageCsv(u.sessions)], { type: "text/csv" }))}>
            Download CSV
          </button>
        </>
      )}
    </section>
  );
}

/** The monthly limit and what happens at it: the choice is the user's (a notice, or the session disconnected). */
function LimitForm({ usage, onSaved }: { usage: Usage; onSaved: () => Promise<void> }) {
  const [saved, setSaved] = useState(false);
  return (
    <ApiForm
      label="Save the limit"
      busyLabel="Saving…"
      onSubmit={async (form) => {
        setSaved(false);
        const raw = String(form.get("limitHours") ?? "").trim();
        const { error } = await api.PATCH("/v1/account", {
          body: { usageLimitHours: raw === "" ? null : Number(raw), usageLimitAction: form.get("limitAction") === "disconnect" ? "disconnect" : "notify" },
        });
        if (!error) {
          setSaved(true);
          await onSaved();
        }
        return error;
      }}
    >
      <div class="field">
        <label for="limitHours">Monthly limit in hours</label>
        <input id="limitHours" name="limitHours" type="number" min={1} max={10000} step={1} defaultValue={usage.thisMonth.limitHours?.toString() ?? ""} aria-describedby="limitHours-hint" />
        <p id="limitHours-hint" class="hint">
          Empty for no limit. We email you at 80% and 100%.
        </p>
      </div>
      <fieldset class="field">
        <legend>At the limit</legend>
        <label>
          <input type="radio" name="limitAction" value="notify" defaultChecked={usage.thisMonth.limitAction === "notify"} /> Email me only
        </label>
        <label>
          <input type="radio" name="limitAction" value="disconnect" defaultChecked={usage.thisMonth.limitAction === "disconnect"} /> Disconnect the session (the workspace is kept) and refuse new ones until the
          month ends
        </label>
      </fieldset>
      {saved && <p role="status">Saved.</p>}
    </ApiForm>
  );
}
