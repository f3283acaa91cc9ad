import { join } from "node:path";
import type { MetricFields } from "@cluster-telemetry/contract";
import type { Collector, CollectorOptions } from "./collector.ts";
import { EntityBound } from "./entity-bound.ts";
import { readProcFile } from "./procfs.ts";

/** Exactly the contract's fields of the network metric: one entry per interface. */
export type NetworkFields = MetricFields<"network">;
type Interface = NetworkFields[number];
type Counters = Interface["in"];

export interface NetworkCollectorOptions extends CollectorOptions {
  /** The clock the period's length is measured with, in ms. @defaultValue Date.now */
  clock?: () => number;
}

/** One interface's cumulative counters, as /proc/net/dev has them. */
export interface InterfaceCounters {
  name: string;
  in: Counters;
  out: Counters;
}

/**
 * Parses /proc/net/dev: two header lines, then `name: ` and 16 counters, receive (bytes packets
 * errs drop fifo frame compressed multicast) then transmit (bytes packets errs drop fifo colls
 * carrier compressed). Metricbeat's in/out take bytes, packets, errs and drop of each.
 */
export function parseNetDev(text: string): InterfaceCounters[] {
  const interfaces: InterfaceCounters[] = [];
  for (const line of text.split("\n")) {
    const match = /^\s*([^\s:]+):\s*(.*)$/.exec(line);
    if (!match) continue;
    const n = (match[2] ?? "").trim().split(/\s+/).map(Number);
    if (n.length < 16 || n.some((x) => !Number.isSafeInteger(x))) continue;
    interfaces.push({
      name: match[1]!,
      in: { bytes: n[0]!, packets: n[1]!, errors: n[2]!, dropped: n[3]! },
      out: { bytes: n[8]!, packets: n[9]!, errors: n[10]!, dropped: n[11]! },
    });
  }
  return interfaces;
}

const COUNTERS = ["bytes", "packets", "errors", "dropped"] as const;

/** after − before per counter, or undefined when any went backwards: a reset or a wrap, not traffic. */
function change(before: Counters, after: Counters): Counters | undefined {
  const delta = {} as Counters;
  for (const counter of COUNTERS) {
    if (after[counter] < before[counter]) return undefined;
    delta[counter] = after[counter] - before[counter];
  }
  return delta;
}

/**
 * An interface's entity: Metricbeat's cumulative counters, and what changed since `before` over
 * `ms` when there is a `before` and no counter went backwards.
 */
export function networkEntity(
  now: InterfaceCounters,
  before: InterfaceCounters | undefined,
  ms: number,
): Interface {
  const entity: Interface = { name: now.name, in: now.in, out: now.out };
  if (!before || ms < 1) return entity;
  const received = change(before.in, now.in);
  const sent = change(before.out, now.out);
  if (received && sent) entity.period = { ms, in: received, out: sent };
  return entity;
}

/**
 * Traffic of every network interface but loopback (Metricbeat's `network` metricset), from
 * <proc>/net/dev. The baseline is read at start, so the first sample already has its period.
 * Linux only; elsewhere the host reports no network metric (sensor "none").
 */
export class NetworkCollector implements Collector<"network"> {
  readonly metric = "network";
  private readonly netDev: string;
  private readonly clock: () => number;
  private readonly bound: EntityBound;
  private previous: { at: number; interfaces: Map<string, InterfaceCounters> } | undefined;
  private source = "none";

  constructor(options: NetworkCollectorOptions) {
    this.netDev = join(options.procRoot, "net", "dev");
    this.clock = options.clock ?? Date.now;
    this.bound = new EntityBound(this.metric, "busiest", options.log);
  }

  private read(): { at: number; interfaces: Map<string, InterfaceCounters> } {
    const at = this.clock();
    const interfaces = parseNetDev(readProcFile(this.netDev)).filter((i) => i.name !== "lo");
    return { at, interfaces: new Map(interfaces.map((i) => [i.name, i])) };
  }

  async start(): Promise<void> {
    if (process.platform !== "linux") return;
    try {
      this.previous = this.read();
      this.source = "procfs";
    } catch {
      this.source = "none";
    }
  }

  async collect(): Promise<NetworkFields | undefined> {
    if (this.source === "none") return undefined;
    const now = this.read();
    const before = this.previous;
    this.previous = now;
    const ms = before ? now.at - before.at : 0;
    const entities = [...now.interfaces.values()].map((i) =>
      networkEntity(i, before?.interfaces.get(i.name), ms),
    );
    if (entities.length === 0) return undefined;
    // Past the bound, the interfaces that carried the most keep their place: the uplink carries
    // the traffic of every container's veth, so it is never the one left out.
    const traffic = (i: Interface) => i.in.bytes + i.out.bytes;
    return this.bound
      .keep(entities.sort((a, b) => traffic(b) - traffic(a) || (a.name < b.name ? -1 : 1)))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  sensor(): string {
    return this.source;
  }
}
