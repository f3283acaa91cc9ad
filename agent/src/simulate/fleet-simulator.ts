import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import type { AgentConfig } from "../config/agent-config.ts";
import { Publisher } from "../publish/publisher.ts";
import { VirtualHost, seededRandom } from "./virtual-host.ts";

export interface SimulationOptions {
  hosts: number;
  intervalMs: number;
  connections: number;
  /** Stop after this long; undefined runs until stop(). */
  durationMs: number | undefined;
  /** Host names are `<prefix>-<n>`. */
  prefix: string;
  /** Chance per host and interval of going offline for 3 to 10 intervals. */
  offlineRate: number;
  seed: number;
}

export interface SimulationSummary {
  hosts: number;
  connections: number;
  intervalMs: number;
  seconds: number;
  /** Messages the fleet produced (samples and status). */
  published: number;
  /** Messages the broker acknowledged (PUBACK). */
  acked: number;
  /** The Elasticsearch documents those messages make: one per entity of a per-entity sample. */
  ackedDocuments: number;
  /** Refused by the broker (MQTT 5 reason code) or dropped from a full buffer. */
  failed: number;
  /** Still waiting for the broker when the run ended. */
  pending: number;
  producedPerSecond: number;
  ackedPerSecond: number;
  /** Most an interval's samples were produced after their due time. */
  maxLagMs: number;
  /** Share of the time this process's event loop was busy. */
  eventLoopUtilization: number;
  /** What held the run back, or "nothing" when it kept the schedule and the broker kept up. */
  limit: string;
}

/** Upper bound of the connections' buffers: minutes of the fleet's traffic, not unbounded. */
const BUFFER_MESSAGES_PER_CONNECTION = 200_000;

/**
 * Many virtual hosts over a few real MQTT connections, each through the agent's own Publisher
 * (bounded buffer, QoS 1 in-flight window, refusal handling). Every host publishes once per
 * interval at its own phase, spread evenly, as a fleet with start jitter does.
 */
export class FleetSimulator {
  private readonly hosts: VirtualHost[];
  private readonly publishers: Publisher[];
  private readonly nextDue: number[];
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;
  private started = 0;
  private produced = 0;
  private maxLagMs = 0;
  private readonly random: () => number;
  private elu = performance.eventLoopUtilization();
  private finished: ((summary: SimulationSummary) => void) | undefined;
  readonly done: Promise<SimulationSummary>;

  constructor(
    private readonly options: SimulationOptions,
    connection: AgentConfig,
    private readonly log: Logger,
  ) {
    this.random = seededRandom(options.seed);
    this.hosts = Array.from(
      { length: options.hosts },
      (_, i) => new VirtualHost(`${options.prefix}-${i}`, options.seed * 1_000_003 + i),
    );
    this.publishers = Array.from(
      { length: options.connections },
      (_, i) =>
        new Publisher(
          {
            ...connection,
            clientId: `${connection.clientId}-${i}`,
            bufferMaxMessages: BUFFER_MESSAGES_PER_CONNECTION,
            bufferMaxBytes: BUFFER_MESSAGES_PER_CONNECTION * 1024,
          },
          undefined,
          log,
        ),
    );
    this.nextDue = [];
    this.done = new Promise((resolve) => (this.finished = resolve));
  }

  private publisherOf(index: number): Publisher {
    return this.publishers[index % this.publishers.length]!;
  }

  start(): void {
    for (const p of this.publishers) p.start();
    this.started = Date.now();
    this.elu = performance.eventLoopUtilization();
    const { hosts, intervalMs } = this.options;
    this.hosts.forEach((host, i) => {
      this.nextDue.push(this.started + (i / hosts) * intervalMs);
      // A millisecond before the first samples: a status's identity is host, kind and time, and a
      // host going offline at its first tick must not share it.
      this.publisherOf(i).enqueue(host.status("online", this.started - 1, intervalMs));
      this.produced += 1;
    });
    this.timer = setInterval(() => this.tick(), 10);
    if (this.options.durationMs !== undefined)
      setTimeout(() => void this.stop(), this.options.durationMs).unref();
  }

  /** Hosts fall due in a fixed cyclic order (same interval, spread phases): walk a cursor. */
  private tick(): void {
    const now = Date.now();
    const { intervalMs, offlineRate } = this.options;
    const count = this.hosts.length;
    for (let n = 0; n < count && this.nextDue[this.cursor]! <= now; n++) {
      const i = this.cursor;
      const host = this.hosts[i]!;
      const due = this.nextDue[i]!;
      this.maxLagMs = Math.max(this.maxLagMs, now - due);
      this.nextDue[i] = due + intervalMs;
      this.cursor = (i + 1) % count;
      const publisher = this.publisherOf(i);
      if (host.offlineUntil > now) continue;
      if (host.offlineUntil !== 0) {
        host.offlineUntil = 0;
        publisher.enqueue(host.status("online", due, intervalMs));
        this.produced += 1;
      }
      if (this.random() < offlineRate) {
        host.offlineUntil = due + intervalMs * (3 + Math.floor(this.random() * 8));
        publisher.enqueue(host.status("offline", due, intervalMs));
        this.produced += 1;
        continue;
      }
      for (const message of host.samples(due, intervalMs)) {
        publisher.enqueue(message);
        this.produced += 1;
      }
    }
  }

  summary(): SimulationSummary {
    const seconds = Math.max(0.001, (Date.now() - this.started) / 1000);
    const acked = this.publishers.reduce((n, p) => n + p.counters.published, 0);
    const ackedDocuments = this.publishers.reduce((n, p) => n + p.counters.publishedDocuments, 0);
    const refused = this.publishers.reduce((n, p) => n + p.counters.refused + p.buffer.dropped, 0);
    const pending = this.publishers.reduce((n, p) => n + p.buffer.size, 0);
    const elu = performance.eventLoopUtilization(this.elu).utilization;
    const { hosts, intervalMs } = this.options;
    const producedPerSecond = this.produced / seconds;
    const limit =
      this.maxLagMs > intervalMs
        ? `this process: samples fell ${Math.round(this.maxLagMs)} ms behind schedule (event loop ${Math.round(elu * 100)}% busy); use fewer hosts per process or more processes`
        : pending > producedPerSecond
          ? `the broker: ${pending} messages still awaiting PUBACK after the run (over a second of traffic)`
          : refused > 0
            ? `the broker refused or the buffers dropped ${refused} messages`
            : "nothing: the schedule was kept and the broker acknowledged everything";
    return {
      hosts,
      connections: this.publishers.length,
      intervalMs,
      seconds: Math.round(seconds * 10) / 10,
      published: this.produced,
      acked,
      ackedDocuments,
      failed: refused,
      pending,
      producedPerSecond: Math.round(producedPerSecond),
      ackedPerSecond: Math.round(acked / seconds),
      maxLagMs: Math.round(this.maxLagMs),
      eventLoopUtilization: Math.round(elu * 100) / 100,
      limit,
    };
  }

  /** Stops producing, waits up to `drainMs` for outstanding PUBACKs, and disconnects. */
  async stop(drainMs = 10_000): Promise<SimulationSummary> {
    if (!this.timer) return this.done;
    clearInterval(this.timer);
    this.timer = undefined;
    const summary = this.summary();
    await Promise.all(this.publishers.map((p) => p.stop(drainMs)));
    const { acked, ackedDocuments, pending } = this.summary();
    const final = { ...summary, acked, ackedDocuments, pending };
    this.log.info({ event: "simulation_finished", ...final }, "simulation finished");
    this.finished?.(final);
    return final;
  }
}
