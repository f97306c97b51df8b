/** Usage: per-minute samples from the hosts, the user's usage report, and the monthly limit the user sets. */
export { collectUsage, lastSeenAt } from "./samples";
export { type UsageReport, usageReport } from "./report";
export {
  checkUsageLimits,
  type MonthToDate,
  nextMonthStart,
  type SessionAtLimit,
  sessionsAtUsageLimit,
  setUsageLimit,
  USAGE_LIMIT_MAX_HOURS,
  usageLimitRefusal,
} from "./limit";
export { METRICS_PAGE, type MetricsSeries, parseSince, sessionMetrics } from "./series";
export { rollUpUsage } from "./rollup";
