import type { MetricFields } from "@cluster-telemetry/contract";
import type { Collector, CollectorOptions } from "./collector.ts";
import { readTemperature } from "./temperature.ts";

/** Exactly the contract's fields of the temperature_sensor metric: one entry per input. */
export type TemperatureSensorFields = MetricFields<"temperature_sensor">;

/**
 * Every input of the sensor the temperature metric reads (package and each core of coretemp, the
 * thermal zones of a Raspberry Pi), one document each in Elasticsearch. Like the temperature
 * metric, a host without a sensor at start reports none, and no 0 or -1 ever.
 */
export class TemperatureSensorCollector implements Collector<"temperature_sensor"> {
  readonly metric = "temperature_sensor";
  private source = "none";

  constructor(private readonly options: CollectorOptions) {}

  async start(): Promise<void> {
    this.source = (await readTemperature(this.options))?.sensor ?? "none";
  }

  async collect(): Promise<TemperatureSensorFields | undefined> {
    // As the temperature metric: no sensor at start (a VM), none later, without scanning /sys again.
    if (this.source === "none") return undefined;
    const inputs = (await readTemperature(this.options))?.inputs ?? [];
    return inputs.length > 0 ? inputs : undefined;
  }

  sensor(): string {
    return this.source;
  }
}
