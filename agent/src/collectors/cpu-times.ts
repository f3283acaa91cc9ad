import { CPU_STATES, type CpuState } from "@cluster-telemetry/contract";
import { readProcFile } from "./procfs.ts";
import { systemInformation } from "./system-information.ts";

/** Cumulative CPU time per state, in ticks (USER_HZ on Linux), as /proc/stat's cpu lines count it. */
export type CpuTimes = { [S in CpuState]: number };

/** The aggregate `cpu` line and one entry per `cpuN` line, in file order. */
export interface CpuReading {
  total: CpuTimes;
  cores: CpuTimes[];
}

const ZERO: CpuTimes = { user: 0, system: 0, idle: 0, nice: 0, irq: 0, iowait: 0, softirq: 0, steal: 0 };

/** Parses /proc/stat into the aggregate line and one entry per core. */
export function parseProcStat(text: string): CpuReading {
  let total: CpuTimes | undefined;
  const cores: CpuTimes[] = [];
  for (const line of text.split("\n")) {
    const match = /^cpu(\d*)\s+(.*)$/.exec(line);
    if (!match) continue;
    // The column order of proc(5); guest and guest_nice are already inside user and nice.
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = (
      match[2] ?? ""
    )
      .trim()
      .split(/\s+/)
      .map(Number);
    const times = { user, nice, system, idle, iowait, irq, softirq, steal };
    if (match[1] === "") total = times;
    else cores.push(times);
  }
  if (!total) throw new Error("no aggregate cpu line in /proc/stat");
  return { total, cores };
}

/** /proc/stat on Linux; systeminformation's counters elsewhere (no iowait or softirq there). */
export async function readCpuTimes(statFile: string): Promise<CpuReading> {
  if (process.platform === "linux") return parseProcStat(readProcFile(statFile));
  const load = await (await systemInformation()).currentLoad();
  const times = (t: {
    user: number;
    nice: number;
    system: number;
    idle: number;
    irq: number;
    steal: number;
  }): CpuTimes => ({ ...ZERO, ...t });
  return {
    total: times({
      user: load.rawCurrentLoadUser,
      nice: load.rawCurrentLoadNice,
      system: load.rawCurrentLoadSystem,
      idle: load.rawCurrentLoadIdle,
      irq: load.rawCurrentLoadIrq,
      steal: load.rawCurrentLoadSteal,
    }),
    cores: load.cpus.map((c) =>
      times({
        user: c.rawLoadUser,
        nice: c.rawLoadNice,
        system: c.rawLoadSystem,
        idle: c.rawLoadIdle,
        irq: c.rawLoadIrq,
        steal: c.rawLoadSteal,
      }),
    ),
  };
}

/** Metricbeat's rounding of every percentage: 4 decimals (elastic-agent-system-metrics metric.Round). */
export const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** What a state's share of an interval is measured against: the tick total and the core count. */
export interface CpuInterval {
  before: CpuTimes;
  after: CpuTimes;
  /** Ticks that passed, over all states (Metricbeat's `CPU.Total()` delta); positive. */
  ticks: number;
}

/** Ticks between two readings over all eight states, as Metricbeat's `CPU.Total()` sums them. */
export function elapsedTicks(before: CpuTimes, after: CpuTimes): number {
  return CPU_STATES.reduce((sum, state) => sum + after[state] - before[state], 0);
}

/**
 * One state's share of the interval, times `scale` (the core count for `pct`, 1 for `norm.pct`),
 * rounded: elastic-agent-system-metrics metric/cpu/metrics.go `cpuMetricTimeDelta`. A counter that
 * went backwards (per-core iowait can) gives 0 where Metricbeat would give a negative share.
 */
export function share(interval: CpuInterval, state: CpuState, scale: number): number {
  const delta = interval.after[state] - interval.before[state];
  return round4(Math.max(0, delta / interval.ticks) * scale);
}

/**
 * Busy share: `scale` minus the idle and iowait shares, each rounded first, then rounded again:
 * metrics.go `createTotal` (iowait counts as not busy, beats#7627). At least 0.
 */
export function busyShare(interval: CpuInterval, scale: number): number {
  return round4(Math.max(0, scale - share(interval, "idle", scale) - share(interval, "iowait", scale)));
}

/** The interval between two readings, or undefined when no tick passed (Metricbeat reports nothing then). */
export function cpuInterval(before: CpuTimes, after: CpuTimes): CpuInterval | undefined {
  const ticks = elapsedTicks(before, after);
  return ticks > 0 ? { before, after, ticks } : undefined;
}

/** The zero reading Metricbeat measures a core against when it has no earlier one (a core that came online). */
export const NO_TICKS: CpuTimes = ZERO;
