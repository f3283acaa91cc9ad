import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { CpuCollector, cpuDelta, parseProcStat } from "../../../agent/src/collectors/cpu.ts";
import { LoadCollector } from "../../../agent/src/collectors/load.ts";
import { MemoryCollector } from "../../../agent/src/collectors/memory.ts";

const fixtures = join(import.meta.dirname, "..", "fixtures");

describe("the cpu collector", () => {
  const proc = mkdtempSync(join(tmpdir(), "agent-proc-"));
  after(() => rmSync(proc, { recursive: true, force: true }));

  it("computes busy fractions as a delta between two /proc/stat readings", () => {
    const a = parseProcStat("cpu  100 0 50 800 50 0 0 0\ncpu0 100 0 50 800 50 0 0 0\n");
    const b = parseProcStat("cpu  200 0 100 900 100 0 0 0\ncpu0 200 0 100 900 100 0 0 0\n");
    // 300 jiffies passed: 100 user, 50 system, 100 idle, 50 iowait.
    assert.deepEqual(cpuDelta(a.total, b.total), {
      busy: 0.5,
      user: 0.3333,
      system: 0.1667,
      iowait: 0.1667,
      idle: 0.3333,
    });
  });

  it("reports the first sample over the interval since start, not a 0 from a first call", async () => {
    copyFileSync(join(fixtures, "proc-a", "stat"), join(proc, "stat"));
    const cpu = new CpuCollector({ procRoot: proc, sysRoot: "/sys" });
    await cpu.start();
    copyFileSync(join(fixtures, "proc-b", "stat"), join(proc, "stat"));
    const fields = await cpu.collect();
    // Between the fixtures: 600 user, 200 system, 600 idle, 100 iowait of 1500 jiffies.
    assert.equal(fields.cores, 2);
    assert.equal(fields.total.norm.pct, 0.5333);
    assert.equal(fields.user.norm.pct, 0.4);
    assert.equal(fields.iowait.norm.pct, 0.0667);
    assert.equal(fields.idle.norm.pct, 0.4);
    // core0: 650 busy of 700; core1: 150 busy of 800 (100 of its idle time was iowait).
    assert.deepEqual(fields.per_core.busy.pct, [0.9286, 0.1875]);
  });
});

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
  it("reports Metricbeat's meanings: used is total minus free, actual.used is total minus available", async () => {
    const memory = new MemoryCollector({ procRoot: join(fixtures, "proc-a"), sysRoot: "/sys" });
    assert.deepEqual(await memory.collect(), {
      total: 4_000_000 * 1024,
      free: 500_000 * 1024,
      used: { bytes: 3_500_000 * 1024, pct: 0.875 },
      actual: { free: 1_000_000 * 1024, used: { bytes: 3_000_000 * 1024, pct: 0.75 } },
    });
  });
});
