import { sampleTopic, statusTopic } from "@cluster-telemetry/contract";

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
  },
  {
    // Hottest, and silent after one minute without saying so (a crash the broker has not noticed yet).
    host: "node-b",
    intervalMs: 30_000,
    cpu: [0.875, 1],
    load: [4, 4.5],
    celsius: [85, 87.5],
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
    h.cpu.forEach((busy, i) => {
      const idle = 1 - busy;
      messages.push({
        topic: sampleTopic(h.host, "cpu"),
        payload: JSON.stringify({
          ...envelope(i, "cpu"),
          system: {
            cpu: {
              cores: 4,
              total: { norm: { pct: busy } },
              user: { norm: { pct: busy / 2 } },
              system: { norm: { pct: busy / 2 } },
              iowait: { norm: { pct: 0 } },
              idle: { norm: { pct: idle } },
              per_core: { busy: { pct: [busy, busy, busy, busy] } },
            },
          },
        }),
      });
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
    if (h.offlineAt !== undefined)
      messages.push(status(h.host, at(start, h.offlineAt * 1000), "offline", h.intervalMs));
  }
  return messages;
}

/** The moment of a host's last message of any kind. */
export function lastSeen(h: HostScript, start: number): number {
  const lastSample = start + (Math.max(h.cpu.length, h.load.length, h.celsius.length) - 1) * STEP_MS;
  return Math.max(lastSample, h.offlineAt === undefined ? 0 : start + h.offlineAt * 1000);
}

export const average = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
