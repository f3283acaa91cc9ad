import type { Collector, CollectorOptions } from "./collector.ts";
import { CpuCollector } from "./cpu.ts";
import { LoadCollector } from "./load.ts";
import { MemoryCollector } from "./memory.ts";
import { TemperatureCollector } from "./temperature.ts";

export type { Collector, CollectorOptions } from "./collector.ts";

/** Every collector the agent runs; each metric also has its schema in the contract. */
export function createCollectors(options: CollectorOptions): Collector[] {
  return [
    new CpuCollector(options),
    new LoadCollector(options),
    new TemperatureCollector(options),
    new MemoryCollector(options),
  ];
}
