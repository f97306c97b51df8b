/** Waiting and timing. */

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wall and CPU time (ms) of one call; CPU (this process) is what a busy machine distorts least. */
export async function timed<T>(work: () => Promise<T> | T) {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const value = await work();
  const used = process.cpuUsage(cpu);
  return { value, ms: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 };
}
