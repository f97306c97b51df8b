/**
 * A time-series chart (uPlot, loaded only when a chart is shown, with its stylesheet: both from our
 * origin). The canvas is described for screen readers by `label`; every page that charts also
 * shows the numbers as text, so the chart is never the only way to read them.
 */
import { useEffect, useRef } from "preact/hooks";
import type uPlot from "uplot";

export interface ChartSeries {
  label: string;
  /** A CSS colour; the palette below has enough contrast on both schemes. */
  stroke: string;
  /** Which y axis: "left" (default) or "right" (a second unit, e.g. MB beside %). */
  axis?: "left" | "right";
}

export const PALETTE = ["#0b78d0", "#d3541e", "#2e8b57", "#8a4fbf", "#b8860b", "#c2185b"];

export function Chart({ label, series, data, bars = false, units }: { label: string; series: ChartSeries[]; data: uPlot.AlignedData; bars?: boolean; units: { left: string; right?: string } }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // The newest data, for a chart whose library arrives after the data changed.
  const latest = useRef(data);
  latest.current = data;

  useEffect(() => {
    let gone = false;
    let observer: ResizeObserver | undefined;
    void (async () => {
      const [{ default: UPlot }] = await Promise.all([import("uplot"), import("uplot/dist/uPlot.min.css")]);
      if (gone || !box.current) return;
      const width = () => Math.max(240, box.current?.clientWidth ?? 600);
      const scale = (axis: "left" | "right" | undefined) => (axis === "right" ? "right" : "left");
      plot.current = new UPlot(
        {
          width: width(),
          height: 220,
          scales: { x: { time: true }, left: {}, right: {} },
          axes: [{}, { scale: "left", label: units.left }, ...(units.right ? [{ scale: "right", label: units.right, side: 1 as const, grid: { show: false } }] : [])],
          series: [
            {},
            ...series.map((s) => ({
              label: s.label,
              stroke: s.stroke,
              scale: scale(s.axis),
              width: 2,
              ...(bars ? { fill: s.stroke, paths: UPlot.paths.bars?.({ size: [0.6, 40] }) } : {}),
            })),
          ],
        },
        latest.current,
        box.current,
      );
      observer = new ResizeObserver(() => plot.current?.setSize({ width: width(), height: 220 }));
      observer.observe(box.current);
    })();
    return () => {
      gone = true;
      observer?.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [series.map((s) => s.label).join("|"), bars]);

  useEffect(() => plot.current?.setData(data), [data]);

  return <div class="chart" ref={box} role="img" aria-label={label} />;
}
