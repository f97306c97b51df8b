/** GPU hosts: the registry, placement of new workspaces, and what each host reports about itself. */
export { findHost, type GpuHost, hostHasRoom, noCapacity, placeWorkspace } from "./registry";
export { type ContainerMetrics, forEachHost, hostsToVisit, markHostSeen, type PerHostResult, readHostMetrics } from "./metrics";
