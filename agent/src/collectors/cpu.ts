import { CPU_STATES, type MetricFields } from "@cluster-telemetry/contract";
import { CpuTimesCollector } from "./cpu-times-collector.ts";
import { busyShare, cpuInterval, share, type CpuReading } from "./cpu-times.ts";

/** Exactly the contract's fields of the cpu metric. */
export type CpuFields = MetricFields<"cpu">;

/**
 * The whole machine's CPU over the interval, computed as Metricbeat's cpu metricset computes it
 * (elastic-agent-system-metrics metric/cpu/metrics.go, `Metrics.Format` with percentages and
 * normalized_percentages): each state's `pct` is its share of the ticks times the core count,
 * `norm.pct` the share alone; `total` is the core count (or 1) minus idle and iowait.
 */
export function cpuFields(before: CpuReading, after: CpuReading): CpuFields | undefined {
  const interval = cpuInterval(before.total, after.total);
  if (!interval) return undefined;
  // Metricbeat's count: the cpuN lines of the current reading.
  const cores = Math.max(1, after.cores.length);
  const states = Object.fromEntries(
    CPU_STATES.map((state) => [
      state,
      { pct: share(interval, state, cores), norm: { pct: share(interval, state, 1) } },
    ]),
  ) as Omit<CpuFields, "cores" | "total">;
  return {
    cores,
    total: { pct: busyShare(interval, cores), norm: { pct: busyShare(interval, 1) } },
    ...states,
  };
}

/**
 * CPU busy fractions over the sampling interval. On Linux it reads /proc/stat directly: there
 * systeminformation's currentLoad() runs a blocking shell pipeline on every call (about 5 ms of CPU
 * and a 6 ms stall, against 0.2 ms; npm run bench:agent) and has no iowait.
 */
export class CpuCollector extends CpuTimesCollector<"cpu"> {
  readonly metric = "cpu";

  protected fields(before: CpuReading, after: CpuReading): CpuFields | undefined {
    return cpuFields(before, after);
  }
}
