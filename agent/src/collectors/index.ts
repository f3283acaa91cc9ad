import type { MetricName } from "@cluster-telemetry/contract";
import type { AnyCollector, Collector, CollectorOptions } from "./collector.ts";
import { CoreCollector } from "./core.ts";
import { CpuCollector } from "./cpu.ts";
import { FilesystemCollector } from "./filesystem.ts";
import { LoadCollector } from "./load.ts";
import { MemoryCollector } from "./memory.ts";
import { NetworkCollector } from "./network.ts";
import { TemperatureSensorCollector } from "./temperature-sensor.ts";
import { TemperatureCollector } from "./temperature.ts";

export type { AnyCollector, Collector, CollectorOptions } from "./collector.ts";

/** One collector per metric of the contract: a metric without one here does not compile. */
const COLLECTORS: { [M in MetricName]: (options: CollectorOptions) => Collector<M> } = {
  cpu: (options) => new CpuCollector(options),
  core: (options) => new CoreCollector(options),
  load: (options) => new LoadCollector(options),
  temperature: (options) => new TemperatureCollector(options),
  temperature_sensor: (options) => new TemperatureSensorCollector(options),
  memory: (options) => new MemoryCollector(options),
  filesystem: (options) => new FilesystemCollector(options),
  network: (options) => new NetworkCollector(options),
};

/** The collectors of the metrics asked for (every metric by default), in the contract's order. */
export function createCollectors(
  options: CollectorOptions,
  metrics: ReadonlySet<MetricName> = new Set(Object.keys(COLLECTORS) as MetricName[]),
): AnyCollector[] {
  return (Object.keys(COLLECTORS) as MetricName[])
    .filter((metric) => metrics.has(metric))
    .map((metric) => COLLECTORS[metric](options) as AnyCollector);
}
