import { round } from "../state/ring.ts";
import { noSensorColumns, type HostState, type HostStatus } from "../state/host-state.ts";
import type { FleetSummary } from "../state/fleet.ts";

/** Points of a sparkline: a sparkline 120 pixels wide shows no more, and every point is bytes. */
export const SPARKLINE_POINTS = 120;

/** One column's points, oldest first: epoch seconds and values. */
export interface WireSeries {
  t: number[];
  v: number[];
}

/**
 * One host's row as the page receives it. Short keys: at 5,000 hosts every byte of a row counts.
 * `t` are the epoch seconds of each column's latest value, so the page appends a point to its
 * sparkline only when it is new; `p` carries the sparklines themselves, sent when a row enters a
 * browser's window.
 */
export interface WireRow {
  h: string;
  s: HostStatus;
  hot: boolean;
  /** ms since the epoch when the host was last heard from. */
  seen: number;
  /** The host's sampling interval in ms. */
  i: number;
  v: (number | null)[];
  t: number[];
  /** Columns the host has no sensor for. */
  ns?: number[];
  p?: WireSeries[];
}

/** What one push (or the answer to a change of view) carries; absent keys did not change. */
export interface WireUpdate {
  /** The server's clock, ms, so "last seen" is right even when the browser's clock is off. */
  now: number;
  /** Hosts matching the filter. */
  n?: number;
  /** Names in the window, in order, when the order or the window changed; `o` is the window's offset. */
  order?: string[];
  o?: number;
  rows?: WireRow[];
  sum?: FleetSummary & { broker: boolean };
  detail?: { row: WireRow; latest: Record<string, unknown> };
}

export function wireRow(
  host: HostState,
  series: "none" | "sparkline" | "full",
  sinceSeconds: number,
): WireRow {
  const ns = noSensorColumns(host);
  const row: WireRow = {
    h: host.name,
    s: host.status,
    hot: host.hot,
    seen: host.lastSeenMs,
    i: host.intervalMs,
    v: host.values.map((v) => (v === undefined ? null : round(v))),
    t: host.times,
    ...(ns.length > 0 ? { ns } : {}),
  };
  if (series === "sparkline") {
    row.p = host.rings.map((r) => {
      const { times, values } = r.downsampled(SPARKLINE_POINTS, sinceSeconds);
      return { t: times, v: values };
    });
  } else if (series === "full") {
    row.p = host.rings.map((r) => {
      const { times, values } = r.points(sinceSeconds);
      return { t: times, v: values };
    });
  }
  return row;
}
