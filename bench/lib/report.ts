/** What the printed reports are made of: medians, percentiles, number formats and tables. */

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
/** The p-th percentile of already sorted values (NaN if there are none). */
export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

export const fmt = (n: number, digits = 1) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
/** A load average (os.loadavg()) as "1.00 0.50 0.25". */
export const fmtLoad = (load: number[]) => load.map((l) => fmt(l, 2)).join(" ");
export const kib = (bytes: number) => `${fmt(bytes / 1024)} KiB`;
export const mib = (bytes: number) => `${fmt(bytes / 2 ** 20)} MiB`;
/** Throughput in MB/s (10^6 bytes per second). */
export const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

export function table(headers: string[], rows: string[][]) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
