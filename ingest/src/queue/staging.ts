import { createHash } from "node:crypto";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { IndexedDocument } from "../documents.ts";

/**
 * The durable step between MQTT and BullMQ. Each accepted message is appended to this instance's
 * staging list (AOF: in Redis's log before the reply) and only then acknowledged to the broker;
 * the batcher turns the list's head into one BullMQ job and trims it.
 *
 *   RPUSH <prefix>:staging:<client id>  one entry per message   (intake, before PUBACK)
 *   LRANGE head → Queue.add(jobId = hash of the entries) → LTRIM   (batcher)
 *
 * A crash between add and trim re-reads the same head: the same job id makes the add a no-op, and
 * should the head differ, Elasticsearch's deterministic ids turn the repeat into 409s.
 */
export interface StagedEntry extends IndexedDocument {
  /** When it was staged (ms since epoch), for the flush interval. */
  t: number;
}

export interface StagingOptions {
  key: string;
  batchSize: number;
  flushIntervalMs: number;
}

export class Staging {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly queue: Queue,
    private readonly options: StagingOptions,
    private readonly onQueued: (count: number) => void,
  ) {}

  async append(document: IndexedDocument): Promise<void> {
    const entry: StagedEntry = { ...document, t: Date.now() };
    const length = await this.redis.rpush(this.options.key, JSON.stringify(entry));
    if (length >= this.options.batchSize) this.wake?.();
  }

  async length(): Promise<number> {
    return this.redis.llen(this.options.key);
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Moves full batches at once, and a partial one when its oldest entry has waited a flush interval. */
  private async run(): Promise<void> {
    while (this.running) {
      let moved = 0;
      try {
        moved = await this.moveOne();
      } catch {
        // Redis away: the entries stay staged; try again after a pause.
      }
      if (moved === 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(200, this.options.flushIntervalMs));
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  async moveOne(force = false): Promise<number> {
    const raw = await this.redis.lrange(this.options.key, 0, this.options.batchSize - 1);
    if (raw.length === 0) return 0;
    if (!force && raw.length < this.options.batchSize) {
      const oldest = (JSON.parse(raw[0]!) as StagedEntry).t;
      if (Date.now() - oldest < this.options.flushIntervalMs) return 0;
    }
    const jobId = createHash("sha1").update(raw.join("\n")).digest("hex");
    await this.queue.add("bulk", { entries: raw }, { jobId });
    await this.redis.ltrim(this.options.key, raw.length, -1);
    this.onQueued(raw.length);
    return raw.length;
  }
}
