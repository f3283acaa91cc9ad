import { CPU_STATES, type MetricFields } from "@cluster-telemetry/contract";
import { CpuTimesCollector } from "./cpu-times-collector.ts";
import { busyShare, cpuInterval, NO_TICKS, share, type CpuReading } from "./cpu-times.ts";

/** Exactly the contract's fields of the core metric: one entry per logical core. */
export type CoreFields = MetricFields<"core">;

/**
 * Each logical core over the interval, as Metricbeat's core metricset reports it (beats
 * metricbeat/module/system/core/core.go `Fetch`, elastic-agent-system-metrics metric/cpu/metrics.go
 * `FetchCores` and `Format` with one CPU): `id` is the core's position among /proc/stat's cpuN
 * lines, each state's `pct` its share of that core's ticks, `total.pct` 1 minus idle and iowait.
 * A core without an earlier reading is measured from zero, as Metricbeat does; a core whose ticks
 * did not advance is left out (Metricbeat fails the whole fetch then).
 */
export function coreFields(before: CpuReading, after: CpuReading): CoreFields | undefined {
  const cores = after.cores.flatMap((times, id) => {
    const interval = cpuInterval(before.cores[id] ?? NO_TICKS, times);
    if (!interval) return [];
    const states = Object.fromEntries(CPU_STATES.map((state) => [state, { pct: share(interval, state, 1) }]));
    return [{ id, total: { pct: busyShare(interval, 1) }, ...states } as CoreFields[number]];
  });
  return cores.length > 0 ? cores : undefined;
}

/** Per-core CPU, from its own /proc/stat baseline (Metricbeat's core metricset keeps its own too). */
export class CoreCollector extends CpuTimesCollector<"core"> {
  readonly metric = "core";

  protected fields(before: CpuReading, after: CpuReading): CoreFields | undefined {
    return coreFields(before, after);
  }
}
