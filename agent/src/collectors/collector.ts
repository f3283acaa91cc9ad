/**
 * One metric's source. `collect()` returns the metric's fields (what goes under `system.<metric>`
 * in the contract), or undefined when the host cannot produce the metric (no sensor).
 * Adding a metric: a file here exporting a Collector, its schema entry in the contract, and one
 * line in ./index.ts.
 */
export interface Collector<Fields extends object = object> {
  readonly metric: string;
  /** Prepare (e.g. a CPU counter baseline, sensor discovery). Called once before the first collect. */
  start(): Promise<void>;
  collect(): Promise<Fields | undefined>;
  /** What the readings come from, or "none"; published in the status message. */
  sensor(): string;
}

export interface CollectorOptions {
  /** Root of the proc filesystem. @defaultValue "/proc" */
  procRoot: string;
  /** Root of the sys filesystem. @defaultValue "/sys" */
  sysRoot: string;
}
