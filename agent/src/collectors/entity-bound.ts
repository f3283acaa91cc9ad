import type { Logger } from "pino";
import { METRIC_FIELDS, type MetricName } from "@cluster-telemetry/contract";

/**
 * The contract bounds each per-entity metric's list (`maxItems`) so that one host's sample stays
 * under the payload limit. A host with more entities (containers bring a veth interface each)
 * reports the first `maxItems` in the collector's order of importance and drops the rest, with
 * one warning per agent run: the same host would repeat it at every interval otherwise.
 */
export class EntityBound {
  private warned = false;
  private readonly maxItems: number;

  /** `order` says, for the warning, which entities are kept: "largest", "busiest". */
  constructor(
    private readonly metric: MetricName,
    private readonly order: string,
    private readonly log?: Logger,
  ) {
    const schema = METRIC_FIELDS[metric] as { maxItems?: number };
    this.maxItems = schema.maxItems ?? Number.POSITIVE_INFINITY;
  }

  /** The first `maxItems` of `ranked` (most important first). */
  keep<T>(ranked: T[]): T[] {
    if (ranked.length <= this.maxItems) return ranked;
    if (!this.warned) {
      this.warned = true;
      this.log?.warn(
        { event: "entities_truncated", metric: this.metric, found: ranked.length, kept: this.maxItems },
        `${ranked.length} ${this.metric} entities, the contract allows ${this.maxItems}: keeping the ${this.order}`,
      );
    }
    return ranked.slice(0, this.maxItems);
  }
}
