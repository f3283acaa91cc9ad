import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { CoreCollector } from "../../../agent/src/collectors/core.ts";
import { CpuCollector, cpuFields } from "../../../agent/src/collectors/cpu.ts";
import { parseProcStat } from "../../../agent/src/collectors/cpu-times.ts";

const fixtures = join(import.meta.dirname, "..", "fixtures");

/**
 * The expected values are worked out by hand from the fixtures' /proc/stat deltas, the way
 * Metricbeat computes them (elastic-agent-system-metrics metric/cpu/metrics.go):
 * - ticks = the delta of `CPU.Total()`, the sum of user, nice, system, idle, iowait, irq, softirq
 *   and steal (guest is already inside user, so it is not added);
 * - a state's `pct` = Round(delta / ticks × cores), its `norm.pct` = Round(delta / ticks)
 *   (`cpuMetricTimeDelta`; Round keeps 4 decimals, metric.Round);
 * - `total` = Round(cores − idle − iowait) with idle and iowait already rounded (`createTotal`);
 *   `norm` is the same with 1 for cores;
 * - cores = the number of cpuN lines (`Metrics.count`); per core (`FetchCores`, the core
 *   metricset) cores is 1 and `id` is the line's position.
 */
async function collectBetween<C extends CpuCollector | CoreCollector>(
  make: (procRoot: string) => C,
  from: string,
  to: string,
): Promise<Awaited<ReturnType<C["collect"]>>> {
  const proc = mkdtempSync(join(tmpdir(), "agent-proc-"));
  try {
    copyFileSync(join(fixtures, from, "stat"), join(proc, "stat"));
    const collector = make(proc);
    await collector.start();
    copyFileSync(join(fixtures, to, "stat"), join(proc, "stat"));
    return (await collector.collect()) as Awaited<ReturnType<C["collect"]>>;
  } finally {
    rmSync(proc, { recursive: true, force: true });
  }
}

const state = (pct: number, norm: number) => ({ pct, norm: { pct: norm } });

describe("the cpu collector", () => {
  const proc = mkdtempSync(join(tmpdir(), "agent-proc-"));
  after(() => rmSync(proc, { recursive: true, force: true }));

  it("reports every state on its own, summed over cores and normalised, as Metricbeat's cpu metricset", async () => {
    // proc-guest: a 4-core VM with nice, irq, softirq, steal and guest time. Between the readings
    // 1603 ticks passed: user 480, nice 80, system 160, idle 643, iowait 60, irq 20, softirq 40,
    // steal 120 (guest 20 is inside user).
    const fields = await collectBetween(
      (procRoot) => new CpuCollector({ procRoot, sysRoot: "/sys" }),
      "proc-guest-a",
      "proc-guest-b",
    );
    assert.deepEqual(fields, {
      cores: 4,
      // 4 − Round(643×4/1603 = 1.60449) − Round(60×4/1603 = 0.14972) = 4 − 1.6045 − 0.1497;
      // 1 − Round(0.40112) − Round(0.03743) = 1 − 0.4011 − 0.0374.
      total: state(2.2458, 0.5615),
      user: state(1.1978, 0.2994), // 480/1603 = 0.299439
      system: state(0.3993, 0.0998), // 160/1603 = 0.099813
      idle: state(1.6045, 0.4011), // 643/1603 = 0.401123
      nice: state(0.1996, 0.0499), // 80/1603 = 0.049906
      irq: state(0.0499, 0.0125), // 20/1603 = 0.012477
      iowait: state(0.1497, 0.0374), // 60/1603 = 0.037430
      softirq: state(0.0998, 0.025), // 40/1603 = 0.024953
      steal: state(0.2994, 0.0749), // 120/1603 = 0.074860
    });
  });

  it("reports the first sample over the interval since start, not a 0 from a first call", async () => {
    copyFileSync(join(fixtures, "proc-a", "stat"), join(proc, "stat"));
    const cpu = new CpuCollector({ procRoot: proc, sysRoot: "/sys" });
    await cpu.start();
    copyFileSync(join(fixtures, "proc-b", "stat"), join(proc, "stat"));
    const fields = await cpu.collect();
    // Between the fixtures: 600 user, 200 system, 600 idle, 100 iowait of 1500 ticks, 2 cores.
    assert.equal(fields?.cores, 2);
    assert.deepEqual(fields?.total, state(1.0667, 0.5333)); // 2 − 0.8 − 0.1333; 1 − 0.4 − 0.0667
    assert.deepEqual(fields?.user, state(0.8, 0.4));
    assert.deepEqual(fields?.system, state(0.2667, 0.1333));
    assert.deepEqual(fields?.iowait, state(0.1333, 0.0667));
    assert.deepEqual(fields?.idle, state(0.8, 0.4));
    assert.deepEqual(fields?.steal, state(0, 0));
  });

  it("reports nothing for an interval in which no tick passed, as Metricbeat reports no event", () => {
    const reading = parseProcStat("cpu  100 0 50 800 50 0 0 0\ncpu0 100 0 50 800 50 0 0 0\n");
    assert.equal(cpuFields(reading, reading), undefined);
  });

  it("counts a counter that went backwards as 0, not a negative share", () => {
    const before = parseProcStat("cpu  100 0 50 800 50 0 0 0\ncpu0 100 0 50 800 50 0 0 0\n");
    const after = parseProcStat("cpu  200 0 100 900 40 0 0 0\ncpu0 200 0 100 900 40 0 0 0\n");
    // 240 ticks: user 100, system 50, idle 100, iowait −10 → 0.
    const fields = cpuFields(before, after);
    assert.deepEqual(fields?.iowait, state(0, 0));
    assert.deepEqual(fields?.total, state(0.5833, 0.5833)); // 1 − Round(100/240 = 0.41667)
  });
});

describe("the core collector", () => {
  it("reports each logical core as Metricbeat's core metricset: id, total and every state, 0..1", async () => {
    const cores = await collectBetween(
      (procRoot) => new CoreCollector({ procRoot, sysRoot: "/sys" }),
      "proc-guest-a",
      "proc-guest-b",
    );
    const pct = (x: number) => ({ pct: x });
    assert.deepEqual(cores, [
      {
        // 420 ticks: user 200, nice 40, system 60, idle 60, iowait 10, irq 10, softirq 10, steal 30.
        id: 0,
        total: pct(0.8333), // 1 − Round(60/420 = 0.14286) − Round(10/420 = 0.02381)
        user: pct(0.4762),
        system: pct(0.1429),
        idle: pct(0.1429),
        nice: pct(0.0952),
        irq: pct(0.0238),
        iowait: pct(0.0238),
        softirq: pct(0.0238),
        steal: pct(0.0714),
      },
      {
        // 400 ticks: user 150, nice 20, system 50, idle 140, iowait 20, irq 5, softirq 15.
        id: 1,
        total: pct(0.6), // 1 − 0.35 − 0.05
        user: pct(0.375),
        system: pct(0.125),
        idle: pct(0.35),
        nice: pct(0.05),
        irq: pct(0.0125),
        iowait: pct(0.05),
        softirq: pct(0.0375),
        steal: pct(0),
      },
      {
        // 400 ticks: user 100, nice 20, system 40, idle 200, iowait 30, irq 5, softirq 5.
        id: 2,
        total: pct(0.425), // 1 − 0.5 − 0.075
        user: pct(0.25),
        system: pct(0.1),
        idle: pct(0.5),
        nice: pct(0.05),
        irq: pct(0.0125),
        iowait: pct(0.075),
        softirq: pct(0.0125),
        steal: pct(0),
      },
      {
        // 383 ticks: user 30, system 10, idle 243, softirq 10, steal 90.
        id: 3,
        total: pct(0.3655), // 1 − Round(243/383 = 0.63446)
        user: pct(0.0783), // 30/383 = 0.078329
        system: pct(0.0261), // 10/383 = 0.026110
        idle: pct(0.6345),
        nice: pct(0),
        irq: pct(0),
        iowait: pct(0),
        softirq: pct(0.0261),
        steal: pct(0.235), // 90/383 = 0.234987
      },
    ]);
  });

  it("keeps which value is which core where one core is busy and the other idle", async () => {
    // proc-a → proc-b: core0 700 ticks of which 50 idle; core1 800 ticks, 550 idle and 100 iowait.
    const cores = await collectBetween(
      (procRoot) => new CoreCollector({ procRoot, sysRoot: "/sys" }),
      "proc-a",
      "proc-b",
    );
    assert.deepEqual(
      cores?.map((core) => [core.id, core.total.pct, core.user.pct, core.iowait.pct]),
      [
        [0, 0.9286, 0.7143, 0], // 1 − Round(50/700 = 0.07143); 500/700
        [1, 0.1875, 0.125, 0.125], // 1 − 0.6875 − 0.125; 100/800; 100/800
      ],
    );
  });
});
