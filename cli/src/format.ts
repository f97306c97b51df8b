/** How amounts, sizes, durations and dates read in the CLI's lines for a person (--json keeps the API's raw values). */

export const money = (cents: number) => `$${(cents / 100).toFixed(2)}`;

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "not measured yet";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** 3725 s → "1 h 02 min"; under an hour "12 min 05 s". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min`;
  return `${m} min ${String(s % 60).padStart(2, "0")} s`;
}

export const hours = (seconds: number) => `${(seconds / 3600).toFixed(2)} h`;

/** An ISO instant as "2026-12-03 14:05 UTC". */
export const when = (iso: string) => `${iso.slice(0, 16).replace("T", " ")} UTC`;

/** The cost of `ms` of session time at a price per hour, in cents (the API's estimate rule: pro rata). */
export const costCents = (ms: number, pricePerHourCents: number) => (ms / 3_600_000) * pricePerHourCents;

/** The current UTC month: its first instant and the next month's. */
export function thisMonth(now = new Date()): { from: string; to: string } {
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return { from: from.toISOString(), to: to.toISOString() };
}
