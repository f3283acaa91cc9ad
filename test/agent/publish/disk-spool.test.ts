import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DiskSpool, type DiskSpoolOptions } from "../../../agent/src/publish/disk-spool.ts";

const message = (n: number, size = 10) => ({ topic: `t/${n}`, payload: Buffer.alloc(size, 97 + (n % 26)) });

function spool(dir: string, options: Partial<DiskSpoolOptions> = {}): { spool: DiskSpool; errors: string[] } {
  const errors: string[] = [];
  const created = new DiskSpool({
    dir,
    maxBytes: 1 << 20,
    flushMs: 60_000,
    memory: { maxMessages: 1000, maxBytes: 1 << 20 },
    onError: (what) => errors.push(what),
    ...options,
  });
  return { spool: created, errors };
}

const topics = (messages: { topic: string }[]) => messages.map((m) => m.topic);

describe("the disk spool", () => {
  it("writes nothing while the broker takes every sample right away", () => {
    const dir = mkdtempSync(join(tmpdir(), "spool-"));
    const { spool: s } = spool(dir);
    for (let i = 0; i < 10; i++) {
      s.push(message(i));
      assert.deepEqual(topics(s.take(64)), [`t/${i}`]);
      s.putBack([]);
    }
    s.flush();
    assert.equal(s.stats.writes, 0);
    assert.deepEqual(readdirSync(dir), []);
  });

  it("gives a restarted agent the samples written before it died, oldest first, and none that were acknowledged", () => {
    const dir = mkdtempSync(join(tmpdir(), "spool-"));
    const { spool: before } = spool(dir);
    for (let i = 0; i < 5; i++) before.push(message(i));
    before.flush();
    before.push(message(5));
    before.flush();
    assert.deepEqual(topics(before.take(2)), ["t/0", "t/1"]);
    before.putBack([]);
    assert.equal(before.stats.writes, 2);

    const { spool: after } = spool(dir);
    assert.equal(after.size, 4);
    assert.deepEqual(topics(after.take(64)), ["t/2", "t/3", "t/4", "t/5"]);
    after.putBack([]);
    assert.equal(after.size, 0);
    assert.equal(spool(dir).spool.size, 0);
  });

  it("keeps a retried record and those after it, and sends none acknowledged before it again", () => {
    const dir = mkdtempSync(join(tmpdir(), "spool-"));
    const { spool: s } = spool(dir);
    for (let i = 0; i < 4; i++) s.push(message(i));
    s.flush();
    const batch = s.take(64);
    s.putBack([batch[2]!]);
    assert.deepEqual(topics(s.take(64)), ["t/2", "t/3"]);
    s.putBack([]);
    assert.equal(spool(dir).spool.size, 0);
  });

  it("drops the oldest segment when over its bytes and counts its samples as dropped", () => {
    const dir = mkdtempSync(join(tmpdir(), "spool-"));
    // 64 KiB in segments of 8 KiB; each flush of 20 samples of 400 bytes fills one segment.
    const { spool: s } = spool(dir, { maxBytes: 64 * 1024 });
    for (let round = 0; round < 12; round++) {
      for (let i = 0; i < 20; i++) s.push(message(round * 20 + i, 400));
      s.flush();
    }
    assert.ok(s.dropped > 0, "some dropped");
    assert.equal(s.size + s.dropped, 240);
    assert.equal(s.take(1)[0]!.topic, `t/${s.dropped}`);
  });

  it("skips a record it cannot read, counts it as dropped and names the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "spool-"));
    writeFileSync(
      join(dir, "0000000000000001.ndjson"),
      `${JSON.stringify({ t: "t/0", p: "a" })}\nnot json\n${JSON.stringify({ t: "t/2", p: "c" })}\n{"t":"t/3","p`,
    );
    const { spool: s, errors } = spool(dir);
    assert.deepEqual(topics(s.take(64)), ["t/0", "t/2"]);
    s.putBack([]);
    assert.equal(s.dropped, 1);
    assert.match(errors[0]!, /record 1 of .*0000000000000001\.ndjson/);
    assert.equal(s.size, 0);
  });

  it("writes what waits in memory by itself after flushMs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "spool-"));
    const { spool: s } = spool(dir, { flushMs: 10 });
    s.push(message(0));
    while (s.stats.writes === 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal(spool(dir).spool.size, 1);
  });
});
