import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OfflineBuffer } from "../../../agent/src/publish/offline-buffer.ts";
import { reconnectDelay } from "../../../agent/src/publish/backoff.ts";

const message = (n: number, size = 10) => ({ topic: `t/${n}`, payload: Buffer.alloc(size, n) });

describe("the offline buffer", () => {
  it("hands messages out oldest first", () => {
    const buffer = new OfflineBuffer({ maxMessages: 10, maxBytes: 1000 });
    for (let i = 0; i < 5; i++) buffer.push(message(i));
    assert.deepEqual(
      buffer.take(3).map((m) => m.topic),
      ["t/0", "t/1", "t/2"],
    );
    assert.equal(buffer.size, 2);
  });

  it("drops the oldest and counts them when full by count", () => {
    const buffer = new OfflineBuffer({ maxMessages: 3, maxBytes: 1000 });
    for (let i = 0; i < 5; i++) buffer.push(message(i));
    assert.equal(buffer.dropped, 2);
    assert.deepEqual(
      buffer.take(10).map((m) => m.topic),
      ["t/2", "t/3", "t/4"],
    );
  });

  it("drops the oldest when full by bytes", () => {
    const buffer = new OfflineBuffer({ maxMessages: 100, maxBytes: 25 });
    for (let i = 0; i < 4; i++) buffer.push(message(i, 10));
    assert.equal(buffer.bytes, 20);
    assert.equal(buffer.dropped, 2);
  });

  it("puts failed deliveries back in front, in order", () => {
    const buffer = new OfflineBuffer({ maxMessages: 10, maxBytes: 1000 });
    for (let i = 0; i < 4; i++) buffer.push(message(i));
    const taken = buffer.take(2);
    buffer.push(message(9));
    buffer.putBack(taken);
    assert.deepEqual(
      buffer.take(10).map((m) => m.topic),
      ["t/0", "t/1", "t/2", "t/3", "t/9"],
    );
  });

  it("stays bounded across a long outage", () => {
    const buffer = new OfflineBuffer({ maxMessages: 1000, maxBytes: 1_000_000 });
    for (let i = 0; i < 100_000; i++) buffer.push(message(i % 250));
    assert.equal(buffer.size, 1000);
    assert.equal(buffer.dropped, 99_000);
  });
});

describe("reconnect backoff", () => {
  it("doubles from one second and stops at the cap", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 10, 100].map((n) => reconnectDelay(n, 1000, 60_000)),
      [1000, 2000, 4000, 8000, 60_000, 60_000],
    );
  });
});
