import { readProcFile } from "./procfs.ts";
import { join } from "node:path";
import { systemInformation } from "./system-information.ts";
import type { Collector, CollectorOptions } from "./collector.ts";
import type { MetricFields } from "@cluster-telemetry/contract";

/** Exactly the contract's fields of the memory metric. */
export type MemoryFields = MetricFields<"memory">;

/** Parses /proc/meminfo (values in kB) into bytes. */
export function parseMeminfo(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?/.exec(line);
    if (match?.[1] && match[2]) values.set(match[1], Number(match[2]) * (line.includes("kB") ? 1024 : 1));
  }
  return values;
}

/**
 * Memory as Metricbeat reports it: `used` is total − free (page cache counts as used), `actual.used`
 * is total − available (what the kernel estimates cannot be allocated without swapping).
 */
export class MemoryCollector implements Collector<"memory"> {
  readonly metric = "memory";
  private readonly meminfo: string;

  constructor(options: CollectorOptions) {
    this.meminfo = join(options.procRoot, "meminfo");
  }

  async start(): Promise<void> {}

  async collect(): Promise<MemoryFields> {
    let total: number;
    let free: number;
    let available: number;
    if (process.platform === "linux") {
      const info = parseMeminfo(readProcFile(this.meminfo));
      total = info.get("MemTotal") ?? 0;
      free = info.get("MemFree") ?? 0;
      available = info.get("MemAvailable") ?? free + (info.get("Cached") ?? 0);
    } else {
      const mem = await (await systemInformation()).mem();
      total = mem.total;
      free = mem.free;
      available = mem.available;
    }
    return {
      total,
      free,
      used: usage(total, free),
      actual: { free: available, used: usage(total, available) },
    };
  }

  sensor(): string {
    return process.platform === "linux" ? "procfs" : "systeminformation";
  }
}

/** Bytes in use out of `total` when `unused` are not, and that as a fraction (4 decimals). */
export function usage(total: number, unused: number): { bytes: number; pct: number } {
  const bytes = Math.max(0, total - unused);
  return { bytes, pct: total > 0 ? Math.round((bytes / total) * 10_000) / 10_000 : 0 };
}
