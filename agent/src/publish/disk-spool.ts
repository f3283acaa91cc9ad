import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import {
  OfflineBuffer,
  type MessageBuffer,
  type OfflineBufferOptions,
  type PendingMessage,
} from "./offline-buffer.ts";

export interface DiskSpoolOptions {
  /** Directory of the spool's files; created when missing. Only this agent may write there. */
  dir: string;
  /** Most bytes of samples on disk; beyond it the oldest segment is deleted and its samples counted as dropped. */
  maxBytes: number;
  /**
   * How long a sample may wait in memory before it is written and fsynced, in ms. A power cut loses
   * at most this much; a kill -9 loses only what was not yet written.
   */
  flushMs: number;
  /** Bounds of what waits in memory between writes (and while the disk refuses writes). */
  memory: OfflineBufferOptions;
  /** Told about every failed write or unreadable record (the samples stay in memory or are counted as dropped). */
  onError: (what: string, error: Error) => void;
}

/** What the spool did since it started: an operator on an SD card can judge its writes from these. */
export interface DiskSpoolStats {
  /** Appends to a segment, each followed by one fsync. */
  writes: number;
  bytesWritten: number;
  /** Cursor updates after acknowledged batches (a rename, no fsync). */
  commits: number;
}

interface InFlight {
  disk: PendingMessage[];
  /** For each disk message, the number of lines from the cursor up to and including its own. */
  lines: number[];
  /** Lines read from the cursor on, unreadable ones included. */
  consumed: number;
  memory: PendingMessage[];
}

interface Segment {
  seq: number;
  records: number;
  bytes: number;
}

const SEGMENT = /^(\d{16})\.ndjson$/;
const CURSOR = "cursor";

/**
 * The samples waiting for the broker, kept on disk so that a kill -9 or a power cut during a
 * broker outage loses at most the last `flushMs` of them.
 *
 *   push ──▶ memory (OfflineBuffer) ──every flushMs: append + fsync──▶ segment files (oldest first)
 *   take ◀── oldest segment first, then memory          putBack ──▶ cursor advanced past what was acked
 *
 * While the broker is connected a sample is taken within milliseconds of its push and never
 * reaches the disk: only an outage writes. Segments are NDJSON files of one record per sample;
 * the spool holds at most `maxBytes` of them and deletes the oldest segment (counting its samples
 * as dropped) beyond that. The cursor file names the first record not yet acknowledged; it is
 * replaced (rename) after every acknowledged batch, without an fsync: a kill -9 repeats nothing, a
 * power cut while draining may repeat the last batches (at least once, never lost).
 */
export class DiskSpool implements MessageBuffer {
  readonly stats: DiskSpoolStats = { writes: 0, bytesWritten: 0, commits: 0 };
  private readonly memory: OfflineBuffer;
  private readonly segments: Segment[] = [];
  private readonly segmentBytes: number;
  /** Records of the oldest segment already acknowledged (the cursor). */
  private committed = 0;
  /** The oldest segment's records, read when the drain reaches it. */
  private loaded: { seq: number; lines: string[] } | undefined;
  /** What the last take() handed out: records from disk (with their line, from the cursor) and from memory. */
  private inFlight: InFlight = { disk: [], lines: [], consumed: 0, memory: [] };
  private diskDropped = 0;
  private writeSeq: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: DiskSpoolOptions) {
    this.memory = new OfflineBuffer(options.memory);
    // Small enough that dropping one deletes an eighth of the spool, not all of it.
    this.segmentBytes = Math.max(4096, Math.floor(options.maxBytes / 8));
    mkdirSync(options.dir, { recursive: true, mode: 0o750 });
    this.recover();
    // A new segment per start: a record torn by a power cut stays the last line of its own file.
    this.writeSeq = (this.segments.at(-1)?.seq ?? 0) + 1;
  }

  get size(): number {
    return this.memory.size + this.diskWaiting();
  }

  get dropped(): number {
    return this.memory.dropped + this.diskDropped;
  }

  /** Samples on disk that the broker has not acknowledged. */
  get spooled(): number {
    return this.segments.reduce((n, s) => n + s.records, 0) - this.committed;
  }

  push(message: PendingMessage): void {
    this.memory.push(message);
    this.timer ??= setTimeout(() => this.flush(), this.options.flushMs).unref();
  }

  take(n: number): PendingMessage[] {
    this.inFlight = this.readOldest(n);
    if (this.inFlight.consumed === 0) this.inFlight.memory = this.memory.take(n);
    return [...this.inFlight.disk, ...this.inFlight.memory];
  }

  putBack(messages: PendingMessage[]): void {
    const retry = new Set(messages);
    const { disk, lines, consumed, memory } = this.inFlight;
    this.inFlight = { disk: [], lines: [], consumed: 0, memory: [] };
    // Acknowledged up to the first retried record; any acknowledged after it are sent again.
    const first = disk.findIndex((m) => retry.has(m));
    this.commit(first === -1 ? consumed : first === 0 ? 0 : lines[first - 1]!);
    this.memory.putBack(memory.filter((m) => retry.has(m)));
  }

  /** Writes what waits in memory to the newest segment and fsyncs it. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.memory.size === 0) return;
    const messages = this.memory.take(this.memory.size);
    const lines = messages.map(
      (m) =>
        `${JSON.stringify({ t: m.topic, p: m.payload.toString("utf8"), ...(m.retain ? { r: 1 } : {}) })}\n`,
    );
    const text = lines.join("");
    let segment = this.segments.at(-1);
    if (!segment || segment.seq !== this.writeSeq || segment.bytes >= this.segmentBytes) {
      if (segment?.seq === this.writeSeq) this.writeSeq += 1;
      segment = { seq: this.writeSeq, records: 0, bytes: 0 };
    }
    try {
      const fd = openSync(this.path(segment.seq), "a", 0o640);
      try {
        writeSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      // A full or read-only disk: the samples wait in memory (bounded) and the next flush retries.
      this.options.onError(`write ${this.path(segment.seq)}`, error as Error);
      this.memory.putBack(messages);
      return;
    }
    if (this.segments.at(-1) !== segment) this.segments.push(segment);
    segment.records += lines.length;
    segment.bytes += Buffer.byteLength(text);
    if (this.loaded?.seq === segment.seq) this.loaded.lines.push(...lines.map((l) => l.slice(0, -1)));
    this.stats.writes += 1;
    this.stats.bytesWritten += Buffer.byteLength(text);
    this.enforceBound();
  }

  private diskWaiting(): number {
    return this.spooled - this.inFlight.consumed;
  }

  /** Up to n records of the oldest segment from the cursor on (a batch never spans segments). */
  private readOldest(n: number): InFlight {
    const taken: InFlight = { disk: [], lines: [], consumed: 0, memory: [] };
    const segment = this.segments[0];
    if (!segment || this.spooled === 0) return taken;
    if (this.loaded?.seq !== segment.seq) {
      try {
        const text = readFileSync(this.path(segment.seq), "utf8");
        this.loaded = { seq: segment.seq, lines: text.split("\n").slice(0, segment.records) };
      } catch (error) {
        this.options.onError(`read ${this.path(segment.seq)}`, error as Error);
        this.loaded = { seq: segment.seq, lines: [] };
      }
    }
    for (let i = this.committed; i < segment.records && taken.disk.length < n; i++) {
      taken.consumed += 1;
      const message = this.parse(this.loaded.lines[i], segment.seq, i);
      if (!message) continue;
      taken.disk.push(message);
      taken.lines.push(taken.consumed);
    }
    return taken;
  }

  /** A record, or undefined (counted as dropped) when it cannot be read back. */
  private parse(line: string | undefined, seq: number, index: number): PendingMessage | undefined {
    try {
      const r = JSON.parse(line ?? "") as { t?: unknown; p?: unknown; r?: 1 };
      if (typeof r.t !== "string" || typeof r.p !== "string") throw new Error("not a spool record");
      return { topic: r.t, payload: Buffer.from(r.p, "utf8"), ...(r.r ? { retain: true } : {}) };
    } catch (error) {
      this.diskDropped += 1;
      this.options.onError(`record ${index} of ${this.path(seq)}`, error as Error);
      return undefined;
    }
  }

  private commit(records: number): void {
    if (records === 0) return;
    this.committed += records;
    this.dropConsumed();
    this.writeCursor();
  }

  /** Deletes the segments whose every record was acknowledged. */
  private dropConsumed(): void {
    while (this.segments[0] && this.committed >= this.segments[0].records) {
      const done = this.segments.shift()!;
      this.committed -= done.records;
      rmSync(this.path(done.seq), { force: true });
      if (this.loaded?.seq === done.seq) this.loaded = undefined;
    }
  }

  private enforceBound(): void {
    const total = () => this.segments.reduce((n, s) => n + s.bytes, 0);
    // The newest segment always stays; an oldest segment being sent right now stays too.
    while (this.segments.length > 1 && total() > this.options.maxBytes && this.inFlight.consumed === 0) {
      const oldest = this.segments.shift()!;
      this.diskDropped += oldest.records - this.committed;
      this.committed = 0;
      rmSync(this.path(oldest.seq), { force: true });
      if (this.loaded?.seq === oldest.seq) this.loaded = undefined;
      this.writeCursor();
    }
  }

  private writeCursor(): void {
    const seq = this.segments[0]?.seq ?? this.writeSeq;
    const tmp = join(this.options.dir, `${CURSOR}.tmp`);
    try {
      writeFileSync(tmp, `${seq} ${this.committed}\n`, { mode: 0o640 });
      renameSync(tmp, join(this.options.dir, CURSOR));
      this.stats.commits += 1;
    } catch (error) {
      // The samples were delivered; after a restart they would be sent again, never lost.
      this.options.onError(`write ${join(this.options.dir, CURSOR)}`, error as Error);
    }
  }

  /** Reads the segments and the cursor a previous run left. */
  private recover(): void {
    const seqs = readdirSync(this.options.dir)
      .map((name) => SEGMENT.exec(name)?.[1])
      .filter((seq): seq is string => seq !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    let cursor = { seq: 0, index: 0 };
    try {
      const [seq, index] = readFileSync(join(this.options.dir, CURSOR), "utf8").trim().split(" ").map(Number);
      if (Number.isInteger(seq) && Number.isInteger(index)) cursor = { seq: seq!, index: index! };
    } catch (error) {
      // No cursor yet: nothing of the segments was acknowledged. An unreadable one is reported, and
      // the segments are sent again from their start (at least once, never lost).
      if ((error as NodeJS.ErrnoException).code !== "ENOENT")
        this.options.onError(`read ${join(this.options.dir, CURSOR)}`, error as Error);
    }
    for (const seq of seqs) {
      if (seq < cursor.seq) {
        rmSync(this.path(seq), { force: true });
        continue;
      }
      const text = readFileSync(this.path(seq), "utf8");
      const records = text.split("\n").length - 1;
      this.segments.push({ seq, records, bytes: Buffer.byteLength(text) });
    }
    if (this.segments[0]?.seq === cursor.seq)
      this.committed = Math.min(cursor.index, this.segments[0].records);
    this.dropConsumed();
  }

  private path(seq: number): string {
    return join(this.options.dir, `${String(seq).padStart(16, "0")}.ndjson`);
  }
}
