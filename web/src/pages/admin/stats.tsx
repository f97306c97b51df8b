import { useState } from "preact/hooks";
import { api, type Schemas } from "../../api";
import { Field, text } from "../../components/form";
import { ProblemView } from "../../components/problem";
import { useSignedInLoad } from "../../hooks/load";
import { useTitle } from "../../title";
import { moment } from "./format";
import { AdminNav } from "./nav";

type Stats = Schemas["Stats"];
type Query = { period: Stats["period"]; from: string; to: string };

const DAY_MS = 86_400_000;
const BINS = ["0-25", "25-50", "50-75", "75-100"] as const;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const count = (n: number) => n.toLocaleString();
const bytes = (n: number) => `${count(n)} bytes (${(n / 1_000_000).toLocaleString(undefined, { maximumFractionDigits: 1 })} MB)`;

/** The one analysis operators get (policy §2): counts per day or week, small groups suppressed, objectors left out; and the database's daily measurement. */
export function AdminStatsPage() {
  useTitle("Statistics");
  const [query, setQuery] = useState<Query>(() => ({ period: "day", from: isoDay(Date.now() - 29 * DAY_MS), to: isoDay(Date.now()) }));
  const stats = useSignedInLoad(() => api.GET("/v1/admin/stats", { params: { query } }), [query]);
  const s = stats.data;
  return (
    <section aria-labelledby="stats-title">
      <h1 id="stats-title">Statistics</h1>
      <AdminNav />
      <form
        class="form inline"
        onSubmit={(event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget);
          setQuery({ period: text(form, "period") as Query["period"], from: text(form, "from"), to: text(form, "to") });
        }}
      >
        <div class="field">
          <label for="period">Per</label>
          <select id="period" name="period">
            <option value="day">day</option>
            <option value="week">week (Monday to Sunday)</option>
          </select>
        </div>
        <Field name="from" label="From (UTC)" type="date" defaultValue={query.from} />
        <Field name="to" label="To (UTC, inclusive)" type="date" defaultValue={query.to} />
        <button type="submit">Show</button>
      </form>
      <ProblemView problem={stats.problem} />
      {s === undefined ? (
        !stats.problem && <p role="status">Loading…</p>
      ) : (
        <>
          <dl class="facts" data-testid="stats-range">
            <dt>Per</dt>
            <dd>{s.period}</dd>
            <dt>From</dt>
            <dd>{s.from}</dd>
            <dt>To</dt>
            <dd>{s.to}</dd>
            <dt>Smallest group shown</dt>
            <dd>{s.minUsers} distinct users: a bucket or plan of fewer is suppressed</dd>
          </dl>
          <Buckets stats={s} />
          <Database stats={s} />
        </>
      )}
    </section>
  );
}

function Buckets({ stats }: { stats: Stats }) {
  if (stats.buckets.length === 0) return <p data-testid="stats-buckets-empty">No sessions in this range.</p>;
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: wider than a phone, and nothing in it takes focus: the keyboard must reach it to scroll it
    <section class="scroll" tabIndex={0} aria-label="Sessions per period">
      <table class="table" data-testid="stats-buckets">
        <caption>Sessions per {stats.period}, oldest first (utilization: per-minute samples by the GPUs' mean use, in percent)</caption>
        <thead>
          <tr>
            <th scope="col">{stats.period === "day" ? "Day" : "Week of"}</th>
            <th scope="col" class="number">
              Sessions
            </th>
            <th scope="col" class="number">
              GPU hours
            </th>
            {BINS.map((bin) => (
              <th key={bin} scope="col" class="number">
                {bin}%
              </th>
            ))}
            <th scope="col">Plans</th>
          </tr>
        </thead>
        <tbody>
          {stats.buckets.map((b) =>
            b.suppressed ? (
              <tr key={b.start}>
                <td>{b.start}</td>
                <td colSpan={6}>suppressed: fewer than {stats.minUsers} users</td>
                <td>—</td>
              </tr>
            ) : (
              <tr key={b.start}>
                <td>{b.start}</td>
                <td class="number">{count(b.sessions)}</td>
                <td class="number">{b.gpuHours === null ? "suppressed" : b.gpuHours.toLocaleString(undefined, { maximumFractionDigits: 2 })}</td>
                {BINS.map((bin) => (
                  <td key={bin} class="number">
                    {b.utilization === null ? "suppressed" : count(b.utilization[bin])}
                  </td>
                ))}
                <td>
                  <ul class="plain">
                    {b.planMix.map((cell) => (
                      <li key={cell.planId}>
                        {cell.planId}: {cell.suppressed ? "suppressed" : count(cell.sessions)}
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ),
          )}
        </tbody>
      </table>
    </section>
  );
}

function Database({ stats }: { stats: Stats }) {
  return (
    <>
      <h2>The database</h2>
      {stats.database.length === 0 ? (
        <p data-testid="stats-database-empty">No daily measurement in this range yet (the daily job measures at 08:00 UTC).</p>
      ) : (
        <div class="scroll">
          <table class="table" data-testid="stats-database">
            <caption>Its daily measurement, newest first; the admins are emailed when it nears the limit</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Measured</th>
                <th scope="col" class="number">
                  Size
                </th>
                <th scope="col" class="number">
                  Limit
                </th>
                <th scope="col" class="number">
                  Used
                </th>
                <th scope="col">Rows per table</th>
              </tr>
            </thead>
            <tbody>
              {stats.database.map((d) => (
                <tr key={d.day}>
                  <td>{d.day}</td>
                  <td>{moment(d.measuredAt)}</td>
                  <td class="number">{bytes(d.sizeBytes)}</td>
                  <td class="number">{bytes(d.limitBytes)}</td>
                  <td class="number">{d.percent}%</td>
                  <td>
                    <details>
                      <summary>{d.tables.length} tables</summary>
                      <ul class="plain">
                        {d.tables.map((t) => (
                          <li key={t.table}>
                            <code>{t.table}</code>: {count(t.rows)}
                          </li>
                        ))}
                      </ul>
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
