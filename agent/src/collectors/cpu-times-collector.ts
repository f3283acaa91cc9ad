import { join } from "node:path";
import type { MetricFields } from "@cluster-telemetry/contract";
import type { Collector, CollectorOptions } from "./collector.ts";
import { readCpuTimes, type CpuReading } from "./cpu-times.ts";

/**
 * A metric computed from two /proc/stat readings, the previous and this one (cpu, core): each keeps
 * its own baseline, as Metricbeat's cpu and core metricsets do, so the two never share an interval.
 */
export abstract class CpuTimesCollector<M extends "cpu" | "core"> implements Collector<M> {
  abstract readonly metric: M;
  private previous: CpuReading | undefined;
  private readonly statFile: string;

  constructor(options: CollectorOptions) {
    this.statFile = join(options.procRoot, "stat");
  }

  /** The metric's fields over the interval between two readings; undefined when no tick passed. */
  protected abstract fields(before: CpuReading, after: CpuReading): MetricFields<M> | undefined;

  async start(): Promise<void> {
    // The baseline: the first sample is then a real delta over the interval, never a 0 from nothing.
    this.previous = await readCpuTimes(this.statFile);
  }

  async collect(): Promise<MetricFields<M> | undefined> {
    const now = await readCpuTimes(this.statFile);
    const before = this.previous ?? now;
    this.previous = now;
    return this.fields(before, now);
  }

  sensor(): string {
    return process.platform === "linux" ? "procfs" : "systeminformation";
  }
}
