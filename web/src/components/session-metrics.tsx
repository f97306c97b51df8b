/**
 * The running session's live figures: GPU utilization and VRAM per GPU, CPU and memory, charted
 * from its per-minute samples (GET /v1/sessions/{id}/metrics) and shown as a table of the latest
 * sample, which is what a screen reader reads. Polled while the page is visible: a sample is taken
 * once a minute, so a poll every 30 s shows each within half a minute (decision 0032).
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, networkProblem, type Problem, type Schemas } from "../api";
import { Chart, type ChartSeries, PALETTE } from "./chart";
import { ProblemView } from "./problem";

type Sample = Schemas["SessionMetrics"]["samples"][number];

export const METRICS_POLL_MS = 30_000;
/** The samples charted: the last hour. */
const KEPT = 60;

const MIB = 1024 * 1024;
const percent = (value: number | null) => (value === null ? "not read" : `${Math.round(value)} %`);
const mib = (used: number | null, total?: number | null) => (used === null ? "not read" : `${used.toLocaleString()}${total ? ` of ${total.toLocaleString()}` : ""} MiB`);

/** The session's samples, newest last (undefined until the first answer), polled with `since` while the page is visible. */
function useSessionSamples(sessionId: string) {
  const [samples, setSamples] = useState<Sample[] | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  useEffect(() => {
    let held: Sample[] = [];
    let since: string | null = null;
    let busy = false;
    let gone = false;
    const fetchPage = async (): Promise<void> => {
      const { data, error } = await api.GET("/v1/sessions/{id}/metrics", { params: { path: { id: sessionId }, query: since ? { since, limit: KEPT } : { limit: KEPT } } });
      if (gone) return;
      setProblem(error);
      if (!data) return;
      // Away longer than a page holds (a hidden tab): start again from the latest samples.
      if (data.truncated && since) {
        since = null;
        held = [];
        return fetchPage();
      }
      held = [...held, ...data.samples].slice(-KEPT);
      since = data.next ?? since;
      setSamples(held);
    };
    const poll = async () => {
      if (busy || gone || document.visibilityState !== "visible") return;
      busy = true;
      try {
        await fetchPage();
      } catch (error) {
        if (!gone) setProblem(networkProblem(error));
      } finally {
        busy = false;
      }
    };
    void poll();
    const timer = setInterval(poll, METRICS_POLL_MS);
    // Back in view: the figures missed while hidden, at once.
    document.addEventListener("visibilitychange", poll);
    return () => {
      gone = true;
      clearInterval(timer);
      document.removeEventListener("visibilitychange", poll);
    };
  }, [sessionId]);
  return { samples, problem };
}

export function SessionMetrics({ sessionId }: { sessionId: string }) {
  const { samples, problem } = useSessionSamples(sessionId);
  const charts = useMemo(() => (samples?.length ? chartsOf(samples) : null), [samples]);
  const latest = samples?.at(-1);
  return (
    <div data-testid="session-metrics">
      <h3>Live usage</h3>
      <ProblemView problem={problem} />
      {samples === undefined ? (
        problem ? null : <p role="status">Loading usage figures…</p>
      ) : !latest || !charts ? (
        <p data-testid="metrics-empty">No samples yet: the first is taken within a minute of the start, then one a minute.</p>
      ) : (
        <>
          {charts.gpus.length > 0 && (
            <>
              <h4>GPU utilization</h4>
              <Chart label="GPU utilization per GPU, in percent, over the last hour; the latest figures are in the table below" series={charts.gpus} data={charts.utilization} units={{ left: "%" }} />
              <h4>VRAM used</h4>
              <Chart label="VRAM used per GPU, in MiB, over the last hour; the latest figures are in the table below" series={charts.gpus} data={charts.vram} units={{ left: "MiB" }} />
            </>
          )}
          <h4>CPU and memory</h4>
          <Chart
            label="CPU use in percent (100 = one core) and memory used in MiB over the last hour; the latest figures are in the table below"
            series={CPU_MEMORY}
            data={charts.cpuMemory}
            units={{ left: "% CPU", right: "MiB" }}
          />
          <LatestFigures sample={latest} />
        </>
      )}
    </div>
  );
}

const CPU_MEMORY: ChartSeries[] = [
  { label: "CPU %", stroke: PALETTE[0]! },
  { label: "Memory MiB", stroke: PALETTE[1]!, axis: "right" },
];

/** The chart data of the samples: one series per GPU the samples name (a sample without per-GPU figures leaves a gap). */
function chartsOf(samples: Sample[]) {
  const xs = samples.map((s) => Date.parse(s.at) / 1000);
  const gpuCount = Math.max(0, ...samples.map((s) => s.gpus?.length ?? 0));
  const gpus = Array.from({ length: gpuCount }, (_, i): ChartSeries => ({ label: `GPU ${i}`, stroke: PALETTE[i % PALETTE.length]! }));
  const perGpu = (figure: (g: NonNullable<Sample["gpus"]>[number]) => number | null) =>
    gpus.map((_, i) => samples.map((s) => {
      const g = s.gpus?.[i];
      return g ? figure(g) : null;
    }));
  return {
    gpus,
    utilization: [xs, ...perGpu((g) => g.utilizationPercent)] as [number[], ...(number | null)[][]],
    vram: [xs, ...perGpu((g) => g.memoryUsedMb)] as [number[], ...(number | null)[][]],
    cpuMemory: [xs, samples.map((s) => s.cpuPercent), samples.map((s) => (s.memoryUsedBytes === null ? null : Math.round(s.memoryUsedBytes / MIB)))] as [number[], ...(number | null)[][]],
  };
}

function LatestFigures({ sample }: { sample: Sample }) {
  return (
    <div class="scroll">
      <table class="table" data-testid="latest-figures">
        <caption>
          Latest figures, sampled at <time dateTime={sample.at}>{new Date(sample.at).toLocaleTimeString()}</time>
        </caption>
        <thead>
          <tr>
            <th scope="col">What</th>
            <th scope="col" class="number">
              Use
            </th>
            <th scope="col" class="number">
              Memory (a GPU's: VRAM)
            </th>
          </tr>
        </thead>
        <tbody>
          {(sample.gpus ?? []).map((g, i) => (
            <tr key={i}>
              <th scope="row">GPU {i}</th>
              <td class="number">{percent(g.utilizationPercent)}</td>
              <td class="number">{mib(g.memoryUsedMb, g.memoryTotalMb)}</td>
            </tr>
          ))}
          <tr>
            <th scope="row">CPU and memory</th>
            <td class="number">{sample.cpuPercent === null ? "not read" : `${Math.round(sample.cpuPercent)} % CPU`}</td>
            <td class="number">{mib(sample.memoryUsedBytes === null ? null : Math.round(sample.memoryUsedBytes / MIB))}</td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}
