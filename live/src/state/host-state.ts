import { COLUMNS } from "./columns.ts";
import { Ring } from "./ring.ts";

/** What the page shows as a host's status. "silent": connected as far as the broker knows, but no sample for 3 intervals. */
export type HostStatus = "online" | "offline" | "silent";

/** Intervals without a sample after which an online host counts as silent. */
export const SILENT_INTERVALS = 3;
/** Until a host's status names its interval (agents publish it at connect), the agent's default. */
export const DEFAULT_INTERVAL_MS = 10_000;

/** Everything telemetry-live keeps about one host. */
export interface HostState {
  name: string;
  /** The retained status's word; undefined until a status arrived. */
  announced: "online" | "offline" | undefined;
  intervalMs: number;
  /** Per metric, the sensor behind it or "none". */
  sensors: Partial<Record<string, string>>;
  architecture: string | undefined;
  /** When the last sample (or, before any sample, the status) arrived here, ms since the epoch. */
  lastSeenMs: number;
  status: HostStatus;
  hot: boolean;
  /** Latest headline value per column (COLUMNS order). */
  values: (number | undefined)[];
  /** Epoch seconds of each column's latest point. */
  times: number[];
  rings: Ring[];
  /**
   * The latest message per metric as the JSON text it came in, for the detail view (per core, load
   * 1/5/15, …): parsed only when a browser asks. A flat string costs the garbage collector far less
   * than thousands of long-lived little objects.
   */
  latestText: Record<string, string>;
  /** Bumped on every change the page would show. */
  version: number;
}

export function ringCapacity(intervalMs: number, windowMinutes: number): number {
  return Math.ceil((windowMinutes * 60_000) / intervalMs) + 1;
}

export function newHost(name: string, nowMs: number, windowMinutes: number): HostState {
  const capacity = ringCapacity(DEFAULT_INTERVAL_MS, windowMinutes);
  return {
    name,
    announced: undefined,
    intervalMs: DEFAULT_INTERVAL_MS,
    sensors: {},
    architecture: undefined,
    lastSeenMs: nowMs,
    status: "online",
    hot: false,
    values: COLUMNS.map(() => undefined),
    times: COLUMNS.map(() => 0),
    rings: COLUMNS.map(() => new Ring(capacity)),
    latestText: {},
    version: 0,
  };
}

/** The status a host has at `nowMs`: offline by its own word (or Last Will), silent by its silence. */
export function statusAt(host: HostState, nowMs: number): HostStatus {
  if (host.announced === "offline") return "offline";
  return nowMs - host.lastSeenMs > SILENT_INTERVALS * host.intervalMs ? "silent" : "online";
}

/** The latest `system.<metric>` object per metric. */
export function latestOf(host: HostState): Record<string, unknown> {
  const latest: Record<string, unknown> = {};
  for (const [metric, text] of Object.entries(host.latestText))
    latest[metric] = (JSON.parse(text) as { system: Record<string, unknown> }).system[metric];
  return latest;
}

export function hasNoSensor(host: HostState): boolean {
  for (const column of COLUMNS) if (host.sensors[column.metric] === "none") return true;
  return false;
}

/** The columns whose metric the host has no sensor for: shown as "no sensor", never as 0. */
export function noSensorColumns(host: HostState): number[] {
  return COLUMNS.flatMap((c, i) => (host.sensors[c.metric] === "none" ? [i] : []));
}
