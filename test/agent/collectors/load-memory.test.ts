import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { LoadCollector } from "../../../agent/src/collectors/load.ts";
import { MemoryCollector } from "../../../agent/src/collectors/memory.ts";

const fixtures = join(import.meta.dirname, "..", "fixtures");

describe("the load collector", () => {
  it("reports the 1, 5 and 15 minute averages and the same per core", async () => {
    const load = new LoadCollector({ procRoot: join(fixtures, "proc-a"), sysRoot: "/sys" });
    await load.start();
    assert.deepEqual(await load.collect(), {
      "1": 1.5,
      "5": 0.75,
      "15": 0.25,
      cores: 2,
      norm: { "1": 0.75, "5": 0.375, "15": 0.125 },
    });
  });
});

describe("the memory collector", () => {
  // Metricbeat's memory metricset on Linux: elastic-agent-system-metrics metric/memory/memory_linux.go
  // `get` (used = MemTotal − MemFree; actual.free = MemAvailable, else MemFree + Buffers + Cached;
  // swap.used = SwapTotal − SwapFree) and memory.go `fillPercentages` (pct = Round(used / total),
  // 4 decimals; swap's only when SwapTotal is not 0).
  it("reports Metricbeat's meanings: used is total minus free, actual.used is total minus available", async () => {
    const memory = new MemoryCollector({ procRoot: join(fixtures, "proc-a"), sysRoot: "/sys" });
    assert.deepEqual(await memory.collect(), {
      total: 4_000_000 * 1024,
      free: 500_000 * 1024,
      used: { bytes: 3_500_000 * 1024, pct: 0.875 }, // 3,500,000 / 4,000,000
      // MemAvailable is there, so Buffers and Cached play no part.
      actual: { free: 1_000_000 * 1024, used: { bytes: 3_000_000 * 1024, pct: 0.75 } },
      // No swap: no swap.used.pct, as Metricbeat leaves it out.
      swap: { total: 0, free: 0, used: { bytes: 0 } },
    });
  });

  it("takes MemFree + Buffers + Cached as available on a kernel without MemAvailable, and reports swap", async () => {
    const memory = new MemoryCollector({ procRoot: join(fixtures, "proc-guest-a"), sysRoot: "/sys" });
    assert.deepEqual(await memory.collect(), {
      total: 2_000_000 * 1024,
      free: 300_000 * 1024,
      used: { bytes: 1_700_000 * 1024, pct: 0.85 }, // 1,700,000 / 2,000,000
      actual: {
        free: 1_012_345 * 1024, // 300,000 + 100,000 + 612,345
        used: { bytes: 987_655 * 1024, pct: 0.4938 }, // 987,655 / 2,000,000 = 0.4938275
      },
      swap: { total: 1_000_000 * 1024, free: 750_000 * 1024, used: { bytes: 250_000 * 1024, pct: 0.25 } },
    });
  });
});
