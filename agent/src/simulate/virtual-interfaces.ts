import type { MetricFields } from "@cluster-telemetry/contract";
import { networkEntity, type InterfaceCounters } from "../collectors/network.ts";

/** The interfaces each kind of machine plausibly has, with the bytes per second each can carry. */
const LAYOUTS: Record<string, Array<{ name: string; bytesPerSecond: number }>> = {
  rpi: [
    { name: "eth0", bytesPerSecond: 125e6 },
    { name: "wlan0", bytesPerSecond: 10e6 },
  ],
  node: [
    { name: "eth0", bytesPerSecond: 125e6 },
    { name: "docker0", bytesPerSecond: 125e6 },
  ],
  server: [
    { name: "eno1", bytesPerSecond: 1.25e9 },
    { name: "eno2", bytesPerSecond: 1.25e9 },
  ],
  vm: [{ name: "ens3", bytesPerSecond: 125e6 }],
};

/**
 * A simulated machine's interfaces: traffic in proportion to how busy the machine is, counters
 * that only grow as /proc/net/dev's do, and the period since the previous sample as the agent
 * computes it.
 */
export class VirtualInterfaces {
  private readonly interfaces: Array<{ bytesPerSecond: number; counters: InterfaceCounters }>;
  private previous = new Map<string, InterfaceCounters>();
  private previousAt: number | undefined;

  constructor(
    kind: string,
    private readonly random: () => number,
  ) {
    const zero = () => ({ bytes: 0, packets: 0, errors: 0, dropped: 0 });
    this.interfaces = (LAYOUTS[kind] ?? LAYOUTS.vm!).map(({ name, bytesPerSecond }) => ({
      bytesPerSecond,
      counters: { name, in: zero(), out: zero() },
    }));
  }

  fields(now: number, busy: number): MetricFields<"network"> {
    const ms = this.previousAt === undefined ? 0 : now - this.previousAt;
    const fields = this.interfaces.map(({ bytesPerSecond, counters }) => {
      const seconds = ms / 1000;
      const received = Math.round(bytesPerSecond * seconds * busy * 0.2 * this.random());
      const sent = Math.round(received * (0.1 + this.random() * 0.4));
      const grown: InterfaceCounters = {
        name: counters.name,
        in: {
          ...counters.in,
          bytes: counters.in.bytes + received,
          packets: counters.in.packets + Math.ceil(received / 1200),
        },
        out: {
          ...counters.out,
          bytes: counters.out.bytes + sent,
          packets: counters.out.packets + Math.ceil(sent / 1200),
        },
      };
      if (this.random() < 0.001) grown.in.dropped += 1;
      Object.assign(counters, grown);
      return networkEntity(grown, this.previous.get(counters.name), ms);
    });
    this.previous = new Map(
      this.interfaces.map(({ counters }) => [counters.name, structuredClone(counters)]),
    );
    this.previousAt = now;
    return fields;
  }
}
