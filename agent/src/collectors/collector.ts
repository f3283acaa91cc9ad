import type { Logger } from "pino";
import type { MetricFields, MetricName } from "@cluster-telemetry/contract";

/**
 * One metric's source. `collect()` returns exactly the contract's fields of metric M (what goes
 * under `system.<M>`), or undefined when the host cannot produce the metric (no sensor).
 * Adding a metric: its schema entry in the contract, a file here exporting its Collector, and its
 * line in ./index.ts (which does not compile until every metric of the contract has a collector).
 */
export interface Collector<M extends MetricName = MetricName> {
  readonly metric: M;
  /** Prepare (e.g. a CPU counter baseline, sensor discovery). Called once before the first collect. */
  start(): Promise<void>;
  collect(): Promise<MetricFields<M> | undefined>;
  /** What the readings come from, or "none"; published in the status message. */
  sensor(): string;
}

/** A collector of any one metric. */
export type AnyCollector = { [M in MetricName]: Collector<M> }[MetricName];

export interface CollectorOptions {
  /** Root of the proc filesystem. @defaultValue "/proc" */
  procRoot: string;
  /** Root of the sys filesystem. @defaultValue "/sys" */
  sysRoot: string;
  /** Where a collector reports what it left out (e.g. entities past its metric's bound). */
  log?: Logger;
}
