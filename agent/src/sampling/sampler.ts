import { machine } from "node:os";
import type { Logger } from "pino";
import {
  sample,
  sampleMessages,
  schemaProblems,
  status,
  type MetricName,
  type Origin,
  type StatusMessage,
} from "@cluster-telemetry/contract";
import type { AnyCollector, Collector } from "../collectors/index.ts";
import { AGENT_VERSION } from "../version.ts";

export interface SampleMessage {
  topic: string;
  payload: Buffer;
}

export interface SamplerOptions {
  host: string;
  /** ECS host.id: the machine id, where the host has one. */
  hostId?: string | undefined;
  intervalMs: number;
  jitterMs: number;
  /**
   * Check every sample against the contract's schema before emitting it. Off in the daemon: the
   * ingest validates every message and dead-letters a bad one with its reason, and compiling the
   * schemas would cost the agent about 15 MB (npm run bench:agent). On for --once, the operator's check.
   */
  checkSchema: boolean;
}

/**
 * Runs every collector on its own timer, so a slow one never delays the others; a collector still
 * busy at its next tick skips that tick (counted) instead of piling up overlapping samples.
 */
export class Sampler {
  skipped = 0;
  private timers: NodeJS.Timeout[] = [];
  private readonly busy = new Set<string>();
  private stopped = false;

  constructor(
    private readonly collectors: AnyCollector[],
    private readonly options: SamplerOptions,
    private readonly emit: (message: SampleMessage) => void,
    private readonly log: Logger,
  ) {}

  async prepare(): Promise<void> {
    for (const collector of this.collectors) {
      await collector.start();
      if (collector.sensor() === "none") {
        this.log.info(
          { event: "sensor_absent", metric: collector.metric },
          `no ${collector.metric} sensor on this host; not reporting ${collector.metric}`,
        );
      }
    }
  }

  start(): void {
    const jitter = Math.floor(Math.random() * (this.options.jitterMs + 1));
    for (const collector of this.collectors) {
      const first = setTimeout(() => {
        void this.tick(collector);
        const every = setInterval(() => void this.tick(collector), this.options.intervalMs);
        this.timers.push(every);
      }, this.options.intervalMs + jitter);
      this.timers.push(first);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
  }

  private async tick(collector: AnyCollector): Promise<void> {
    if (this.stopped) return;
    if (this.busy.has(collector.metric)) {
      this.skipped += 1;
      this.log.warn(
        { event: "sample_skipped", metric: collector.metric },
        "previous sample still running; tick skipped",
      );
      return;
    }
    this.busy.add(collector.metric);
    try {
      for (const message of await this.sample(collector)) this.emit(message);
    } catch (error) {
      this.log.error(
        { event: "collect_failed", metric: collector.metric, err: (error as Error).message },
        "collector failed",
      );
    } finally {
      this.busy.delete(collector.metric);
    }
  }

  /**
   * One collector's sample, stamped at the moment of sampling and checked against the contract if
   * asked: one message, or several for a per-entity metric too large for one (sampleMessages).
   */
  async sample<M extends MetricName>(collector: Collector<M>): Promise<SampleMessage[]> {
    const at = Date.now();
    const fields = await collector.collect();
    if (!fields) return [];
    const { metric } = collector;
    const origin = this.origin();
    // The whole message is built for the check only; the daemon skips both.
    const problems = this.options.checkSchema
      ? schemaProblems(metric, sample(metric, origin, fields, at))
      : undefined;
    if (problems) {
      this.log.error(
        { event: "sample_invalid", metric, problems },
        "sample does not match the contract; not sent",
      );
      return [];
    }
    return sampleMessages(metric, origin, fields, at);
  }

  status(state: "online" | "offline", dropped: number): StatusMessage {
    return status(this.origin(), {
      status: state,
      interval: { ms: this.options.intervalMs },
      sensors: Object.fromEntries(this.collectors.map((c) => [c.metric, c.sensor()])),
      buffer: { dropped },
    });
  }

  private origin(): Origin {
    return {
      host: {
        name: this.options.host,
        ...(this.options.hostId ? { id: this.options.hostId } : {}),
        architecture: machine(),
      },
      agent: { type: "telemetry-agent", version: AGENT_VERSION },
      periodMs: this.options.intervalMs,
    };
  }
}
