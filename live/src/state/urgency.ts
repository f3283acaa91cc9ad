import { COLUMNS } from "./columns.ts";
import type { HostState } from "./host-state.ts";

const TEMPERATURE = COLUMNS.findIndex((c) => c.unit === "celsius");
const CPU = COLUMNS.findIndex((c) => c.metric === "cpu");

/** offline, then silent, then hot (at or above the threshold), then the other online hosts. */
function rank(host: HostState): number {
  if (host.status === "offline") return 0;
  if (host.status === "silent") return 1;
  return host.hot ? 2 : 3;
}

/** Whole degrees and whole percent: finer noise would reorder rows every second for nothing. */
const valueOf = (host: HostState, column: number, scale: number) => {
  const value = column < 0 ? undefined : host.values[column];
  return value === undefined ? -Infinity : Math.round(value * scale);
};

/**
 * The page's order, most urgent first: hosts that stopped (offline, silent), then the hottest above
 * the threshold, then the busiest by CPU; names break ties so rows do not jump between updates.
 */
export function byUrgency(a: HostState, b: HostState): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 2) {
    const t = valueOf(b, TEMPERATURE, 1) - valueOf(a, TEMPERATURE, 1);
    if (t !== 0) return t;
  }
  if (ra === 3) {
    const c = valueOf(b, CPU, 100) - valueOf(a, CPU, 100);
    if (c !== 0) return c;
  }
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export { TEMPERATURE as TEMPERATURE_COLUMN, CPU as CPU_COLUMN };
