/**
 * A fixed-size ring of (time, value) points for one metric of one host: 8 bytes a point (epoch
 * seconds as Uint32, value as Float32), so a host at a 1 s interval costs 7.2 KB per metric for
 * 15 minutes, and one at the default 10 s interval 720 bytes. When full, the oldest point goes.
 */
export class Ring {
  private times: Uint32Array;
  private values: Float32Array;
  private start = 0;
  private count = 0;

  constructor(capacity: number) {
    this.times = new Uint32Array(capacity);
    this.values = new Float32Array(capacity);
  }

  get capacity(): number {
    return this.times.length;
  }

  get length(): number {
    return this.count;
  }

  /** Epoch seconds of the newest point, or 0 when empty. */
  get lastTime(): number {
    return this.count === 0 ? 0 : this.times[(this.start + this.count - 1) % this.capacity]!;
  }

  /** Appends a point; one not newer than the last replaces nothing and is ignored (a resent sample). */
  push(seconds: number, value: number): void {
    if (this.count > 0 && seconds <= this.lastTime) return;
    const capacity = this.capacity;
    const at = (this.start + this.count) % capacity;
    this.times[at] = seconds;
    this.values[at] = value;
    if (this.count < capacity) this.count++;
    else this.start = (this.start + 1) % capacity;
  }

  /** Keeps the newest points that fit into a ring of the new capacity. */
  resize(capacity: number): void {
    if (capacity === this.capacity) return;
    const { times, values } = this.points();
    const keep = Math.min(capacity, times.length);
    this.times = new Uint32Array(capacity);
    this.values = new Float32Array(capacity);
    this.times.set(times.slice(times.length - keep));
    this.values.set(values.slice(values.length - keep));
    this.start = 0;
    this.count = keep;
  }

  /** The points from `sinceSeconds` on, oldest first. */
  points(sinceSeconds = 0): { times: number[]; values: number[] } {
    const times: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < this.count; i++) {
      const at = (this.start + i) % this.capacity;
      if (this.times[at]! < sinceSeconds) continue;
      times.push(this.times[at]!);
      values.push(round(this.values[at]!));
    }
    return { times, values };
  }

  /**
   * At most `max` points from `sinceSeconds` on: consecutive points averaged into equal groups, for a
   * sparkline that cannot show more anyway and should not cost a browser more bytes.
   */
  downsampled(max: number, sinceSeconds = 0): { times: number[]; values: number[] } {
    const all = this.points(sinceSeconds);
    const n = all.times.length;
    if (n <= max) return all;
    const times: number[] = [];
    const values: number[] = [];
    for (let g = 0; g < max; g++) {
      const from = Math.floor((g * n) / max);
      const to = Math.floor(((g + 1) * n) / max);
      let sum = 0;
      for (let i = from; i < to; i++) sum += all.values[i]!;
      times.push(all.times[to - 1]!);
      values.push(round(sum / (to - from)));
    }
    return { times, values };
  }
}

/** Float32 keeps about 7 digits; the page needs 4, and shorter numbers are fewer bytes on the wire. */
export function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
