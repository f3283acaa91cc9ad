import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { down, recordedPids } from "@cluster-telemetry/dev-stack";
import { pidAlive, signalGroup } from "@cluster-telemetry/dev-stack";

/**
 * What one `npm start` owns in its data directory, kept in `run.json` there: its own pid and its
 * children's. A second start reads it to refuse (the owner lives) or to end what a killed owner
 * left behind (the owner is gone); the reaper reads it when its owner dies.
 */
export interface RunRecord {
  /** The `npm start` process (deploy/local/start.ts) that owns the directory. */
  pid: number;
  startedAt: string;
  /** Each child's pid, which is also its process group. */
  children: Record<string, number>;
}

export const runFile = (dir: string) => join(dir, "run.json");

export type Claim = { ok: true; ended: string[] } | { ok: false; owner: RunRecord };

function read(dir: string): RunRecord | undefined {
  try {
    return JSON.parse(readFileSync(runFile(dir), "utf8")) as RunRecord;
  } catch {
    return undefined;
  }
}

/** True when `pid` is a live `npm start` of this project, not a process that reused the pid. */
function isStart(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("deploy/local/start.ts");
  } catch {
    return false;
  }
}

/**
 * Makes this process the owner of `dir`. Refused while another start owns it; otherwise whatever an
 * earlier, killed start left running there (children and services) is ended first and named.
 */
export async function claimRun(dir: string, record: RunRecord): Promise<Claim> {
  mkdirSync(dir, { recursive: true });
  try {
    // Exclusive create: of two starts at the same moment, one wins.
    const fd = openSync(runFile(dir), "wx");
    writeSync(fd, JSON.stringify(record, null, 2));
    closeSync(fd);
    return { ok: true, ended: [] };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const owner = read(dir);
  if (owner && owner.pid !== process.pid && isStart(owner.pid)) return { ok: false, owner };
  const ended = await endLeftovers(dir, owner);
  rmSync(runFile(dir), { force: true });
  const claimed = await claimRun(dir, record);
  return claimed.ok ? { ok: true, ended: [...ended, ...claimed.ended] } : claimed;
}

export function updateRun(dir: string, record: RunRecord): void {
  writeFileSync(runFile(dir), JSON.stringify(record, null, 2));
}

/** Gives the directory up: only its owner calls this, after stopping everything. */
export function releaseRun(dir: string): void {
  if (read(dir)?.pid === process.pid) rmSync(runFile(dir), { force: true });
}

/** Ends the children and services recorded in `dir` (SIGTERM, SIGKILL after `graceMs`); names what was running. */
export async function endLeftovers(dir: string, owner = read(dir), graceMs = 10_000): Promise<string[]> {
  const targets = [
    ...Object.entries(owner?.children ?? {}).map(([name, pid]) => ({ name, pid })),
    ...recordedPids(dir),
  ].filter((t) => pidAlive(t.pid));
  await endGroups(
    targets.map((t) => t.pid),
    graceMs,
  );
  await down(undefined, { dir });
  return targets.map((t) => `${t.name} (pid ${t.pid})`);
}

/** SIGTERM to each process group, then SIGKILL to those still alive after `graceMs`. */
export async function endGroups(pids: number[], graceMs: number): Promise<void> {
  for (const pid of pids) signalGroup(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (pids.some(pidAlive) && Date.now() < deadline) await sleep(100);
  for (const pid of pids.filter(pidAlive)) signalGroup(pid, "SIGKILL");
  while (pids.some(pidAlive)) await sleep(50);
}
