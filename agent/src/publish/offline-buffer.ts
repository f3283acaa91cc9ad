/** One message waiting for the broker's PUBACK. */
export interface PendingMessage {
  topic: string;
  payload: Buffer;
  /** Status messages are retained; samples never are. */
  retain?: boolean;
  /** Elasticsearch documents the ingest makes of it (one per entity); counted by benches. */
  documents?: number;
}

/**
 * What the Publisher drains: the in-memory OfflineBuffer, or the DiskSpool that keeps waiting
 * samples across a restart. After each batch the Publisher calls putBack() with the messages to
 * retry (possibly none): every other message taken is then settled (acknowledged or refused).
 */
export interface MessageBuffer {
  readonly size: number;
  /** Messages dropped, oldest first, because the buffer was full. */
  readonly dropped: number;
  push(message: PendingMessage): void;
  take(n: number): PendingMessage[];
  putBack(messages: PendingMessage[]): void;
}

export interface OfflineBufferOptions {
  /** Most messages held; beyond it the oldest are dropped. */
  maxMessages: number;
  /** Most payload bytes held; beyond it the oldest are dropped. */
  maxBytes: number;
}

/**
 * The samples not yet acknowledged by the broker, oldest first. Bounded by count and bytes: when
 * full, the oldest are dropped and counted, so memory stays bounded however long the outage.
 * (mqtt.js's own outgoing store is unbounded while offline; the agent hands it only a small
 * in-flight window.)
 */
export class OfflineBuffer implements MessageBuffer {
  private readonly items: PendingMessage[] = [];
  private head = 0;
  private byteCount = 0;
  dropped = 0;

  constructor(private readonly options: OfflineBufferOptions) {}

  get size(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.byteCount;
  }

  push(message: PendingMessage): void {
    this.items.push(message);
    this.byteCount += message.payload.byteLength;
    while (
      this.size > this.options.maxMessages ||
      (this.byteCount > this.options.maxBytes && this.size > 0)
    ) {
      this.shift();
      this.dropped += 1;
    }
  }

  /** Takes up to n of the oldest messages out. */
  take(n: number): PendingMessage[] {
    const taken: PendingMessage[] = [];
    while (taken.length < n && this.size > 0) taken.push(this.shift()!);
    return taken;
  }

  /** Puts messages whose delivery failed back in front, in their original order. */
  putBack(messages: PendingMessage[]): void {
    if (messages.length === 0) return;
    const rest = this.items.slice(this.head);
    this.items.length = 0;
    this.head = 0;
    this.byteCount = 0;
    for (const m of [...messages, ...rest]) {
      this.items.push(m);
      this.byteCount += m.payload.byteLength;
    }
    while (this.size > this.options.maxMessages || this.byteCount > this.options.maxBytes) {
      this.shift();
      this.dropped += 1;
    }
  }

  private shift(): PendingMessage | undefined {
    if (this.size === 0) return undefined;
    const message = this.items[this.head]!;
    this.head += 1;
    this.byteCount -= message.payload.byteLength;
    // Compact now and then instead of shifting the array on every take.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return message;
  }
}
