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
 * Memory as Metricbeat reports it, from /proc/meminfo as elastic-agent-system-metrics
 * metric/memory/memory_linux.go `get` reads it: `used` is total − free (page cache counts as used),
 * `actual.free` is MemAvailable or, on kernels before 3.14 that lack it, MemFree + Buffers + Cached,
 * `actual.used` is total − that; swap is SwapTotal, SwapFree and their difference. Percentages as
 * memory.go `fillPercentages`: rounded to 4 decimals, swap's only when the host has swap.
 */
export function memoryFromMeminfo(info: Map<string, number>): MemoryFields {
  const total = info.get("MemTotal") ?? 0;
  const free = info.get("MemFree") ?? 0;
  const available = info.get("MemAvailable") ?? free + (info.get("Buffers") ?? 0) + (info.get("Cached") ?? 0);
  return {
    total,
    free,
    used: usage(total, free),
    actual: { free: available, used: usage(total, available) },
    swap: swap(info.get("SwapTotal") ?? 0, info.get("SwapFree") ?? 0),
  };
}

function swap(total: number, free: number): MemoryFields["swap"] {
  const { bytes, pct } = usage(total, free);
  return { total, free, used: total > 0 ? { bytes, pct } : { bytes } };
}

/** Memory and swap: /proc/meminfo on Linux, systeminformation elsewhere. */
export class MemoryCollector implements Collector<"memory"> {
  readonly metric = "memory";
  private readonly meminfo: string;

  constructor(options: CollectorOptions) {
    this.meminfo = join(options.procRoot, "meminfo");
  }

  async start(): Promise<void> {}

  async collect(): Promise<MemoryFields> {
    if (process.platform === "linux") return memoryFromMeminfo(parseMeminfo(readProcFile(this.meminfo)));
    const mem = await (await systemInformation()).mem();
    return {
      total: mem.total,
      free: mem.free,
      used: usage(mem.total, mem.free),
      actual: { free: mem.available, used: usage(mem.total, mem.available) },
      swap: swap(mem.swaptotal, mem.swapfree),
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
