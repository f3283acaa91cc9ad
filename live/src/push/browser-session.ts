import type { Fleet } from "../state/fleet.ts";
import { latestOf, type HostState } from "../state/host-state.ts";
import { wireRow, type WireUpdate } from "./wire.ts";

/** What a browser looks at: the rows it shows (after its filter) and the host of its detail view. */
export interface View {
  filter: string;
  offset: number;
  count: number;
  detail: string | undefined;
}

/** The most rows a window may hold: a screen shows a few dozen; this bounds a request's cost. */
export const MAX_WINDOW = 200;

/**
 * One browser's side of the coalescing: what it was last sent (the rows in its window with their
 * versions, the order, the summary), so that each update carries only what changed since.
 */
export class BrowserSession {
  view: View = { filter: "", offset: 0, count: 50, detail: undefined };
  private sent = new Map<string, number>();
  private sentOrder: string[] = [];
  private sentTotal = -1;
  private sentSummary = "";
  private detailVersion = -1;

  constructor(readonly id: string) {}

  setView(view: View): void {
    if (view.detail !== this.view.detail) this.detailVersion = -1;
    // A new offset moves the window even when the names in it stay the same.
    if (view.offset !== this.view.offset || view.filter !== this.view.filter) this.sentOrder = [];
    this.view = { ...view, count: Math.min(MAX_WINDOW, view.count) };
  }

  /** The changes since the last update, or undefined when there are none. */
  update(
    fleet: Fleet,
    brokerConnected: boolean,
    windowMinutes: number,
    nowMs: number,
  ): WireUpdate | undefined {
    const since = Math.floor(nowMs / 1000) - windowMinutes * 60;
    const filter = this.view.filter.trim().toLowerCase();
    const ordered = fleet.ordered();
    const matching: readonly HostState[] = filter
      ? ordered.filter((h) => h.name.toLowerCase().includes(filter))
      : ordered;
    const window = matching.slice(this.view.offset, this.view.offset + this.view.count);
    const out: WireUpdate = { now: nowMs };
    let changed = false;

    if (matching.length !== this.sentTotal) {
      out.n = this.sentTotal = matching.length;
      changed = true;
    }
    const order = window.map((h) => h.name);
    if (order.length !== this.sentOrder.length || order.some((name, i) => name !== this.sentOrder[i])) {
      out.order = this.sentOrder = order;
      out.o = this.view.offset;
      changed = true;
    }
    const rows = [];
    const sent = new Map<string, number>();
    for (const host of window) {
      const before = this.sent.get(host.name);
      if (before === undefined) rows.push(wireRow(host, "sparkline", since));
      else if (before !== host.version) rows.push(wireRow(host, "none", since));
      sent.set(host.name, host.version);
    }
    this.sent = sent;
    if (rows.length > 0) {
      out.rows = rows;
      changed = true;
    }
    const summary = { ...fleet.summary(), broker: brokerConnected };
    const summaryText = JSON.stringify(summary);
    if (summaryText !== this.sentSummary) {
      this.sentSummary = summaryText;
      out.sum = summary;
      changed = true;
    }
    const detail = this.view.detail === undefined ? undefined : fleet.hosts.get(this.view.detail);
    if (detail && detail.version !== this.detailVersion) {
      this.detailVersion = detail.version;
      out.detail = { row: wireRow(detail, "none", since), latest: latestOf(detail) };
      changed = true;
    }
    return changed ? out : undefined;
  }

  /** Forgets what was sent: the next update is complete (after a view change). */
  reset(): void {
    this.sent.clear();
    this.sentOrder = [];
    this.sentTotal = -1;
    this.sentSummary = "";
  }
}
