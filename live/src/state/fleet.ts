import type { Sample, StatusMessage } from "@cluster-telemetry/contract";
import { COLUMNS, headline } from "./columns.ts";
import { hasNoSensor, newHost, ringCapacity, statusAt, type HostState } from "./host-state.ts";
import { byUrgency, CPU_COLUMN, TEMPERATURE_COLUMN } from "./urgency.ts";

export interface FleetOptions {
  /** Hosts kept at most; further hosts are refused. */
  maxHosts: number;
  windowMinutes: number;
  hotCelsius: number;
  /** Called for the first host refused, then once per 1,000 more: the operator must see it, not drown in it. */
  onLimit: (host: string, refused: number) => void;
}

export interface FleetSummary {
  hosts: number;
  online: number;
  offline: number;
  silent: number;
  hot: number;
  noSensor: number;
  hottest: { name: string; celsius: number } | null;
  busiest: { name: string; pct: number } | null;
}

/**
 * The latest state of every host, bounded: at most maxHosts hosts, each with one ring per column
 * covering windowMinutes at its interval. Fed by decoded messages (and the history at start);
 * refresh() derives statuses and the urgency order once per push interval.
 */
export class Fleet {
  readonly hosts = new Map<string, HostState>();
  refused = 0;
  private order: HostState[] = [];
  private summaryCache: FleetSummary = emptySummary();

  constructor(private readonly options: FleetOptions) {}

  /** The host's state, created on first sight; undefined when the host limit refuses it. */
  private host(name: string, nowMs: number): HostState | undefined {
    const known = this.hosts.get(name);
    if (known) return known;
    if (this.hosts.size >= this.options.maxHosts) {
      this.refused++;
      if (this.refused === 1 || this.refused % 1000 === 0) this.options.onLimit(name, this.refused);
      return undefined;
    }
    const created = newHost(name, nowMs, this.options.windowMinutes);
    this.hosts.set(name, created);
    return created;
  }

  applySample(name: string, metric: string, message: Sample, text: string, nowMs: number): void {
    const host = this.host(name, nowMs);
    if (!host) return;
    const system = (message.system as Record<string, unknown>)[metric];
    host.latestText[metric] = text;
    host.lastSeenMs = nowMs;
    host.architecture = message.host.architecture ?? host.architecture;
    const seconds = Math.floor(Date.parse(message["@timestamp"]) / 1000);
    for (let i = 0; i < COLUMNS.length; i++) {
      if (COLUMNS[i]!.metric !== metric) continue;
      const value = headline(COLUMNS[i]!, system);
      if (value === undefined) continue;
      host.values[i] = value;
      host.times[i] = seconds;
      host.rings[i]!.push(seconds, value);
    }
    host.version++;
  }

  applyStatus(name: string, message: StatusMessage, nowMs: number): void {
    const host = this.host(name, nowMs);
    if (!host) return;
    const { status, interval, sensors } = message.telemetry;
    host.announced = status;
    host.sensors = sensors;
    host.architecture = message.host.architecture ?? host.architecture;
    if (status === "online") host.lastSeenMs = Math.max(host.lastSeenMs, nowMs);
    if (interval.ms !== host.intervalMs) {
      host.intervalMs = interval.ms;
      const capacity = ringCapacity(interval.ms, this.options.windowMinutes);
      for (const ring of host.rings) ring.resize(capacity);
    }
    host.version++;
  }

  /** Points from the history store, oldest first, before any live sample of that column. */
  applyHistory(name: string, column: number, times: number[], values: number[], nowMs: number): void {
    const host = this.host(name, nowMs);
    if (!host || times.length === 0) return;
    const ring = host.rings[column]!;
    for (let i = 0; i < times.length; i++) ring.push(times[i]!, values[i]!);
    if (host.times[column]! <= times.at(-1)!) {
      host.values[column] = values.at(-1);
      host.times[column] = times.at(-1)!;
    }
    // Until the host speaks, it was last seen at its newest stored point.
    if (host.announced === undefined) host.lastSeenMs = Math.min(host.lastSeenMs, times.at(-1)! * 1000);
    host.version++;
  }

  /** Derives statuses at `nowMs`, orders the fleet by urgency and counts the summary. */
  refresh(nowMs: number): void {
    const s = emptySummary();
    const hotC = this.options.hotCelsius;
    for (const host of this.hosts.values()) {
      const status = statusAt(host, nowMs);
      const celsius = TEMPERATURE_COLUMN < 0 ? undefined : host.values[TEMPERATURE_COLUMN];
      const hot = status === "online" && celsius !== undefined && celsius >= hotC;
      if (status !== host.status || hot !== host.hot) {
        host.status = status;
        host.hot = hot;
        host.version++;
      }
      s.hosts++;
      s[status]++;
      if (hot) s.hot++;
      if (hasNoSensor(host)) s.noSensor++;
      if (status !== "online") continue;
      if (celsius !== undefined && (!s.hottest || celsius > s.hottest.celsius))
        s.hottest = { name: host.name, celsius };
      const pct = CPU_COLUMN < 0 ? undefined : host.values[CPU_COLUMN];
      if (pct !== undefined && (!s.busiest || pct > s.busiest.pct)) s.busiest = { name: host.name, pct };
    }
    this.summaryCache = s;
    this.order = [...this.hosts.values()].sort(byUrgency);
  }

  /** Hosts in urgency order as of the last refresh(). */
  ordered(): readonly HostState[] {
    return this.order;
  }

  summary(): FleetSummary {
    return this.summaryCache;
  }
}

function emptySummary(): FleetSummary {
  return { hosts: 0, online: 0, offline: 0, silent: 0, hot: 0, noSensor: 0, hottest: null, busiest: null };
}
