import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { IndexedDocument } from "../documents.ts";

/**
 * The durable step between MQTT and BullMQ. Accepted messages are appended to this instance's
 * staging list (AOF: in Redis's log before the reply), and only then acknowledged to the broker.
 * The batcher moves the list's head, inside Redis, into a batch list of its own and queues a BullMQ
 * job naming it; the worker reads the batch, indexes it, and deletes it.
 *
 *   RPUSH <staging>                 the messages received since the last write     (intake, before PUBACKs)
 *   move head → <batch>:<n>         one script: LRANGE, INCR, RPUSH, LTRIM          (batcher)
 *   Queue.add(jobId = <batch>:<n>)  the job carries the key, not the documents
 *   LRANGE <batch>:<n> → _bulk → DEL                                                (worker)
 *
 * The documents cross the network twice (in, and out to the worker) and are never re-encoded. A
 * crash between the move and the add, or a move run twice because ioredis resent it after a
 * dropped connection, leaves a batch without a job: the batcher queues the batches it finds at
 * start and after every reconnect (the job id is the key, so a batch is never queued twice). A
 * crash of the worker between DEL and completing the job leaves a job whose batch is gone: nothing
 * to do.
 * On Redis Cluster, give the prefix a hash tag ({…}) so that a staging list and its batches share a slot.
 */
/**
 * A staged entry is one line: `<staged at, ms> <index> <id> <topic, URI-encoded> <JSON source>`.
 * The first four fields never contain a space (an MQTT topic may, so it is encoded), so the batcher
 * reads the age and the indexer builds a bulk body without parsing any JSON.
 */
export function stagedLine(document: IndexedDocument, stagedAt: number): string {
  return `${stagedAt} ${document.index} ${document.id} ${encodeURIComponent(document.topic)} ${document.source}`;
}

export function parseStagedLine(line: string): IndexedDocument & { stagedAt: number } {
  const a = line.indexOf(" ");
  const b = line.indexOf(" ", a + 1);
  const c = line.indexOf(" ", b + 1);
  // A line staged before documents carried their topic (`<at> <index> <id> <JSON>`), still in Redis
  // after an upgrade: its fourth field is the JSON source, which an encoded topic never starts like
  // ("{" encodes as %7B). It is indexed as staged; were Elasticsearch to refuse it, its dead letter
  // has no topic.
  if (line.charCodeAt(c + 1) === 0x7b)
    return {
      stagedAt: Number(line.slice(0, a)),
      index: line.slice(a + 1, b),
      id: line.slice(b + 1, c),
      topic: "",
      source: line.slice(c + 1),
    };
  const d = line.indexOf(" ", c + 1);
  return {
    stagedAt: Number(line.slice(0, a)),
    index: line.slice(a + 1, b),
    id: line.slice(b + 1, c),
    topic: decodeURIComponent(line.slice(c + 1, d)),
    source: line.slice(d + 1),
  };
}

export interface StagingOptions {
  /** The staging list; batches are `<key>:batch:<n>`. */
  key: string;
  /**
   * A counter of the documents in batch lists not yet indexed, shared by every instance on the
   * queue: backpressure counts documents, not jobs (a job may hold one document or a full batch).
   */
  queuedKey: string;
  batchSize: number;
  flushIntervalMs: number;
}

export interface BatchJob {
  /** The Redis list holding the batch's staged lines. */
  batch: string;
}

/**
 * Moves up to n entries from the head of the staging list into a new batch list, atomically.
 * KEYS: staging list, batch sequence, queued-documents counter. ARGV: n, force (1/0), now (ms),
 * flush interval (ms). Returns {batch key, count}, or nil when nothing is due.
 */
const MOVE_BATCH = `
local n = tonumber(ARGV[1])
local items = redis.call('LRANGE', KEYS[1], 0, n - 1)
if #items == 0 then return false end
if #items < n and ARGV[2] == '0' then
  local stagedAt = tonumber(string.match(items[1], '^(%d+) '))
  if tonumber(ARGV[3]) - stagedAt < tonumber(ARGV[4]) then return false end
end
local key = KEYS[1] .. ':batch:' .. redis.call('INCR', KEYS[2])
redis.call('RPUSH', key, unpack(items))
redis.call('LTRIM', KEYS[1], #items, -1)
redis.call('INCRBY', KEYS[3], #items)
return {key, #items}
`;

/** A batch list moved out of the staging list, and how many entries it holds. */
interface MovedBatch {
  batch: string;
  count: number;
}

export class Staging {
  /**
   * A batch moved out of the staging list whose job Redis refused (at maxmemory, or gone between
   * the two calls). Its entries are no longer staged, so it is queued before anything else moves;
   * otherwise it would wait for the orphan scan of the next start.
   */
  private unqueued: MovedBatch | undefined;
  /**
   * Whether batch lists without a job have been looked for since the connection was last made.
   * ioredis resends a command whose reply a dropped connection lost, so a move that Redis ran
   * before it went away runs again, and the first batch it made is left without a job.
   */
  private recovered = false;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly queue: Queue,
    private readonly options: StagingOptions,
    private readonly onQueued: (count: number) => void,
    /**
     * A move or an orphan scan failed (Redis away, or refusing); the batcher retries it. Called for
     * the first failure of a run of them, not for every retry.
     */
    private readonly onError: (error: Error) => void,
  ) {
    // EVALSHA after the first call: the script is not resent with every batch.
    redis.defineCommand("telemetryMoveBatch", { numberOfKeys: 3, lua: MOVE_BATCH });
    // The first "ready" is the first connection: the scan at start, queued until then, covers it.
    let connectedBefore = redis.status === "ready";
    redis.on("ready", () => {
      if (connectedBefore) this.recovered = false;
      connectedBefore = true;
    });
  }

  /** Appends documents in one command; resolves once Redis has them (in its AOF before it replies). */
  async append(documents: IndexedDocument[]): Promise<void> {
    if (documents.length === 0) return;
    const now = Date.now();
    const length = await this.redis.rpush(this.options.key, ...documents.map((d) => stagedLine(d, now)));
    if (length >= this.options.batchSize) this.wake?.();
  }

  /** Documents staged or in batch lists, not yet indexed: what backpressure weighs. */
  async depth(): Promise<number> {
    const [staged, queued] = await Promise.all([
      this.redis.llen(this.options.key),
      this.redis.get(this.options.queuedKey),
    ]);
    return staged + Math.max(0, Number(queued ?? 0));
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

  /** Batches moved out of the staging list whose job was never added (a crash or a lost reply between). */
  private async requeueOrphans(): Promise<void> {
    let cursor = "0";
    do {
      const [next, keys] = await this.redis.scan(
        cursor,
        "MATCH",
        `${this.options.key}:batch:*`,
        "COUNT",
        1000,
      );
      cursor = next;
      for (const batch of keys) {
        if (batch.endsWith(":seq")) continue;
        await this.queue.add("bulk", { batch }, { jobId: jobIdOf(batch) });
      }
    } while (cursor !== "0");
  }

  /** Moves full batches at once, and a partial one when its oldest entry has waited a flush interval. */
  private async run(): Promise<void> {
    let failing = false;
    while (this.running) {
      let moved = 0;
      try {
        if (!this.recovered) {
          // Set first: a reconnect during the scan asks for another one.
          this.recovered = true;
          await this.requeueOrphans().catch((error: unknown) => {
            this.recovered = false;
            throw error;
          });
        }
        moved = await this.moveOne();
        failing = false;
      } catch (error) {
        // The entries stay staged; try again after a pause.
        if (!failing) this.onError(error as Error);
        failing = true;
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
    const earlier = this.unqueued;
    if (earlier) {
      await this.enqueue(earlier);
      return earlier.count;
    }
    const moved = (await (this.redis as unknown as MoveBatch).telemetryMoveBatch(
      this.options.key,
      `${this.options.key}:batch:seq`,
      this.options.queuedKey,
      this.options.batchSize,
      force ? 1 : 0,
      Date.now(),
      this.options.flushIntervalMs,
    )) as [string, number] | null;
    if (!moved) return 0;
    const [batch, count] = moved;
    await this.enqueue({ batch, count });
    return count;
  }

  private async enqueue(moved: MovedBatch): Promise<void> {
    this.unqueued = moved;
    await this.queue.add("bulk", { batch: moved.batch }, { jobId: jobIdOf(moved.batch) });
    this.unqueued = undefined;
    this.onQueued(moved.count);
  }
}

interface MoveBatch {
  telemetryMoveBatch(...args: Array<string | number>): Promise<unknown>;
}

/** What the worker reads a batch with, and deletes it with once every document is settled. */
export interface BatchStore {
  read(batch: string): Promise<string[]>;
  remove(batch: string): Promise<void>;
}

/**
 * Deletes a batch list and takes its documents off the queued-documents counter, atomically.
 * KEYS: batch list, counter. A batch already gone takes nothing off; the counter never goes below 0
 * (batches moved before the counter existed were never added to it).
 */
const REMOVE_BATCH = `
local n = redis.call('LLEN', KEYS[1])
if n == 0 then return 0 end
redis.call('DEL', KEYS[1])
if redis.call('DECRBY', KEYS[2], n) < 0 then redis.call('SET', KEYS[2], 0) end
return n
`;

export function batchStore(redis: Redis, queuedKey: string): BatchStore {
  redis.defineCommand("telemetryRemoveBatch", { numberOfKeys: 2, lua: REMOVE_BATCH });
  return {
    read: (batch) => redis.lrange(batch, 0, -1),
    remove: async (batch) => {
      await (redis as unknown as RemoveBatch).telemetryRemoveBatch(batch, queuedKey);
    },
  };
}

interface RemoveBatch {
  telemetryRemoveBatch(batch: string, queuedKey: string): Promise<unknown>;
}

/** BullMQ job ids may not contain ":" (it separates its own keys). */
function jobIdOf(batch: string): string {
  return batch.replaceAll(":", "/");
}
