import {
  CPU_STATES,
  decodeMessage,
  entityDocuments,
  sampleMessage,
  sampleTopic,
  statusTopic,
  type MetricFields,
  type Origin,
} from "@cluster-telemetry/contract";

/**
 * A small fleet with known readings at known moments, for checking what the dashboard's
 * aggregations make of them. Every value is exact in binary floating point, so averages compare
 * with `equal`, not with a tolerance.
 */
export interface HostScript {
  host: string;
  intervalMs: number;
  /** Readings at start + i × 30 s. */
  cpu: number[];
  load: number[];
  celsius: number[];
  /** Seconds after start of an "offline" status, if the host announces it. */
  offlineAt?: number;
  /** Per mount point, its used fraction at start + i × 30 s. */
  disks?: Record<string, number[]>;
  /** Per interface, the bytes received in the 30 s before start + i × 30 s (sent: half of it). */
  received?: Record<string, number[]>;
}

export const STEP_MS = 30_000;

export const FLEET: HostScript[] = [
  {
    // Healthy: reports all the time.
    host: "node-a",
    intervalMs: 30_000,
    cpu: [0.25, 0.75, 0.5, 0.5, 0.125, 0.375],
    load: [0.5, 1, 1.5, 2, 2.5, 3],
    celsius: [50, 52, 54, 56, 58, 60],
    disks: {
      "/": [0.5, 0.5, 0.625, 0.75, 0.75, 0.875],
      "/boot/firmware": [0.125, 0.125, 0.125, 0.125, 0.125, 0.125],
    },
    received: {
      eth0: [60_000, 120_000, 30_000, 30_000, 600_000, 0],
      wlan0: [6000, 6000, 6000, 6000, 6000, 6000],
    },
  },
  {
    // Hottest, and silent after one minute without saying so (a crash the broker has not noticed yet).
    host: "node-b",
    intervalMs: 30_000,
    cpu: [0.875, 1],
    load: [4, 4.5],
    celsius: [85, 87.5],
    disks: { "/": [0.25, 0.375] },
    received: { eth0: [300_000, 900_000] },
  },
  {
    // Shuts down cleanly: the last sample at 2 min, then "offline" at 2 min 20 s.
    host: "node-c",
    intervalMs: 10_000,
    cpu: [0.0625, 0.125, 0.1875, 0.25, 0.3125],
    load: [0.25, 0.25, 0.5, 0.5, 0.75],
    celsius: [40, 41, 42, 43, 44.5],
    offlineAt: 140,
  },
];

/**
 * Busy fraction of core `id` (of 4) of a host whose CPU is `busy`: core 0 the busiest, core 3 a
 * quarter of it, so a per-core aggregation that mixed the cores up would show it. Exact in binary.
 */
export const coreBusy = (busy: number, id: number) => (busy * (4 - id)) / 4;
export const CORES = [0, 1, 2, 3];

export interface Message {
  topic: string;
  payload: string;
}

const agent = { type: "telemetry-agent", version: "test" };
const at = (start: number, offsetMs: number) => new Date(start + offsetMs).toISOString();

function status(host: string, timestamp: string, state: "online" | "offline", intervalMs: number): Message {
  return {
    topic: statusTopic(host),
    payload: JSON.stringify({
      "@timestamp": timestamp,
      host: { name: host, architecture: "arm64" },
      agent,
      event: { module: "telemetry", dataset: "telemetry.status" },
      telemetry: {
        status: state,
        interval: { ms: intervalMs },
        sensors: { cpu: "proc_stat", temperature: "thermal_zone0" },
        buffer: { dropped: 0 },
      },
    }),
  };
}

/** Every message of the fleet, in time order per host: "online" one second before the first sample. */
export function fleetMessages(start: number, fleet: HostScript[] = FLEET): Message[] {
  const messages: Message[] = [];
  for (const h of fleet) {
    const envelope = (i: number, metric: string) => ({
      "@timestamp": at(start, i * STEP_MS),
      host: { name: h.host, architecture: "arm64" },
      agent,
      event: { module: "telemetry", dataset: `telemetry.${metric}` },
      metricset: { name: metric, period: h.intervalMs },
    });
    messages.push(status(h.host, at(start, -1000), "online", h.intervalMs));
    const origin: Origin = { host: { name: h.host, architecture: "aarch64" }, agent, periodMs: h.intervalMs };
    const when = (i: number) => start + i * STEP_MS;
    h.cpu.forEach((busy, i) => {
      const idle = 1 - busy;
      // Metricbeat's cpu fields: pct over 4 cores, norm.pct over the machine; busy split into user and system.
      const share = (norm: number) => ({ pct: norm * 4, norm: { pct: norm } });
      const states = Object.fromEntries(CPU_STATES.map((state) => [state, share(0)])) as Omit<
        MetricFields<"cpu">,
        "cores" | "total"
      >;
      const fields: MetricFields<"cpu"> = {
        ...states,
        cores: 4,
        total: share(busy),
        user: share(busy / 2),
        system: share(busy / 2),
        idle: share(idle),
      };
      messages.push(wire(sampleMessage("cpu", origin, fields, when(i))));
      const cores = CORES.map((id) => {
        const core = coreBusy(busy, id);
        const zero = Object.fromEntries(CPU_STATES.map((state) => [state, { pct: 0 }]));
        return { ...zero, id, total: { pct: core }, user: { pct: core }, idle: { pct: 1 - core } };
      }) as MetricFields<"core">;
      messages.push(wire(sampleMessage("core", origin, cores, when(i))));
    });
    h.load.forEach((one, i) => {
      messages.push({
        topic: sampleTopic(h.host, "load"),
        payload: JSON.stringify({
          ...envelope(i, "load"),
          system: {
            load: {
              "1": one,
              "5": one / 2,
              "15": one / 4,
              cores: 4,
              norm: { "1": one / 4, "5": one / 8, "15": one / 16 },
            },
          },
        }),
      });
    });
    h.celsius.forEach((celsius, i) => {
      messages.push({
        topic: sampleTopic(h.host, "temperature"),
        payload: JSON.stringify({
          ...envelope(i, "temperature"),
          system: { temperature: { celsius, max: { celsius: celsius + 2 }, sensor: "thermal_zone0" } },
        }),
      });
    });
    const steps = Math.max(0, ...Object.values(h.disks ?? {}).map((r) => r.length));
    for (let i = 0; i < steps; i++) {
      // A 1 GiB disk without reserved blocks: used.pct = used ÷ (used + available) = used ÷ total.
      const total = 2 ** 30;
      messages.push({
        topic: sampleTopic(h.host, "filesystem"),
        payload: JSON.stringify({
          ...envelope(i, "filesystem"),
          system: {
            filesystem: Object.entries(h.disks!).map(([mount_point, used]) => ({
              mount_point,
              device_name: `/dev/disk-${mount_point.length}`,
              type: "ext4",
              total,
              free: total * (1 - used[i]!),
              available: total * (1 - used[i]!),
              used: { bytes: total * used[i]!, pct: used[i]! },
              files: 65_536,
              free_files: 32_768,
            })),
          },
        }),
      });
    }
    const readings = Math.max(0, ...Object.values(h.received ?? {}).map((r) => r.length));
    const cumulative: Record<string, number> = {};
    for (let i = 0; i < readings; i++) {
      messages.push({
        topic: sampleTopic(h.host, "network"),
        payload: JSON.stringify({
          ...envelope(i, "network"),
          system: {
            network: Object.entries(h.received!).map(([name, received]) => {
              const bytes = received[i]!;
              cumulative[name] = (cumulative[name] ?? 1_000_000) + bytes;
              const counters = (b: number) => ({
                bytes: b,
                packets: Math.ceil(b / 1000),
                errors: 0,
                dropped: 0,
              });
              return {
                name,
                in: counters(cumulative[name]),
                out: counters(cumulative[name] / 2),
                period: { ms: STEP_MS, in: counters(bytes), out: counters(bytes / 2) },
              };
            }),
          },
        }),
      });
    }
    if (h.offlineAt !== undefined)
      messages.push(status(h.host, at(start, h.offlineAt * 1000), "offline", h.intervalMs));
  }
  return messages;
}

const wire = (m: { topic: string; payload: Buffer }): Message => ({
  topic: m.topic,
  payload: m.payload.toString(),
});

/** How many documents the messages make in Elasticsearch: one per entity of a per-entity sample. */
export function documentCount(messages: Message[]): number {
  return messages.reduce((n, m) => {
    const decoded = decodeMessage(m.topic, m.payload);
    if (!decoded.ok) throw new Error(`fixture message on ${m.topic} is invalid`);
    if (decoded.kind === "status") return n + 1;
    return n + (entityDocuments(decoded.kind, decoded.message)?.length ?? 1);
  }, 0);
}

/** The moment of a host's last message of any kind. */
export function lastSeen(h: HostScript, start: number): number {
  const lastSample = start + (Math.max(h.cpu.length, h.load.length, h.celsius.length) - 1) * STEP_MS;
  return Math.max(lastSample, h.offlineAt === undefined ? 0 : start + h.offlineAt * 1000);
}

export const average = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
