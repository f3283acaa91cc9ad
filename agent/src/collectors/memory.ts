import { readProcFile } from "./procfs.ts";
import { join } from "node:path";
import { systemInformation } from "./system-information.ts";
import type { Collector, CollectorOptions } from "./collector.ts";

export interface MemoryFields {
  total: number;
  used: { bytes: number; pct: number };
  actual: { free: number };
}

/** Parses /proc/meminfo (values in kB) into bytes. */
export function parseMeminfo(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?/.exec(line);
    if (match?.[1] && match[2]) values.set(match[1], Number(match[2]) * (line.includes("kB") ? 1024 : 1));
  }
  return values;
}

/** Memory in use: total minus available, as the kernel estimates what can be allocated without swapping. */
export class MemoryCollector implements Collector<MemoryFields> {
  readonly metric = "memory";
  private readonly meminfo: string;

  constructor(options: CollectorOptions) {
    this.meminfo = join(options.procRoot, "meminfo");
  }

  async start(): Promise<void> {}

  async collect(): Promise<MemoryFields> {
    let total: number;
    let available: number;
    if (process.platform === "linux") {
      const info = parseMeminfo(readProcFile(this.meminfo));
      total = info.get("MemTotal") ?? 0;
      available = info.get("MemAvailable") ?? (info.get("MemFree") ?? 0) + (info.get("Cached") ?? 0);
    } else {
      const mem = await (await systemInformation()).mem();
      total = mem.total;
      available = mem.available;
    }
    const used = Math.max(0, total - available);
    return {
      total,
      used: { bytes: used, pct: total > 0 ? Math.round((used / total) * 10_000) / 10_000 : 0 },
      actual: { free: available },
    };
  }

  sensor(): string {
    return process.platform === "linux" ? "procfs" : "systeminformation";
  }
}
