import { readProcFile } from "./procfs.ts";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import type { Collector, CollectorOptions } from "./collector.ts";
import type { MetricFields } from "@cluster-telemetry/contract";

/** Exactly the contract's fields of the load metric. */
export type LoadFields = MetricFields<"load">;

const round = (x: number) => Math.round(x * 1000) / 1000;

/** Load averages from /proc/loadavg (os.loadavg() elsewhere), raw and per core. */
export class LoadCollector implements Collector<"load"> {
  readonly metric = "load";
  private readonly loadFile: string;
  private readonly statFile: string;
  private cores = 1;

  constructor(options: CollectorOptions) {
    this.loadFile = join(options.procRoot, "loadavg");
    this.statFile = join(options.procRoot, "stat");
  }

  async start(): Promise<void> {
    if (process.platform !== "linux") {
      this.cores = availableParallelism();
      return;
    }
    // Count cores from the same /proc the averages come from, so fixtures stay self-consistent.
    const stat = readProcFile(this.statFile);
    this.cores = Math.max(1, stat.split("\n").filter((l) => /^cpu\d+\s/.test(l)).length);
  }

  async collect(): Promise<LoadFields> {
    const [one = 0, five = 0, fifteen = 0] =
      process.platform === "linux"
        ? readProcFile(this.loadFile).trim().split(/\s+/).slice(0, 3).map(Number)
        : loadavg();
    return {
      "1": round(one),
      "5": round(five),
      "15": round(fifteen),
      cores: this.cores,
      norm: {
        "1": round(one / this.cores),
        "5": round(five / this.cores),
        "15": round(fifteen / this.cores),
      },
    };
  }

  sensor(): string {
    return process.platform === "linux" ? "procfs" : "os";
  }
}
