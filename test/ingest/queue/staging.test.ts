import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { bulkBody } from "../../../ingest/src/indexer/indexer.ts";
import { Staging, batchStore, parseStagedLine, stagedLine } from "../../../ingest/src/queue/staging.ts";
import { dataStreamFor, sampleTopic } from "@cluster-telemetry/contract";
import { sharedServices, uniqueName } from "@cluster-telemetry/dev-stack";
import { waitFor } from "@cluster-telemetry/dev-stack";

const document = {
  index: dataStreamFor("load", "default"),
  id: "Zm9vYmFy_-",
  topic: sampleTopic("node-1", "load"),
  source: '{"host":{"name":"a b"},"note":"spaces and \\n escapes survive"}',
};

describe("a staged entry", () => {
  it("round-trips index, id, topic and the JSON source untouched, with the time it was staged", () => {
    const line = stagedLine(document, 1_700_000_000_123);
    assert.deepEqual(parseStagedLine(line), { ...document, stagedAt: 1_700_000_000_123 });
  });

  it("round-trips a dead letter's topic that holds spaces and non-ASCII characters", () => {
    const odd = { ...document, topic: sampleTopic("a b", "température ✓") };
    assert.deepEqual(parseStagedLine(stagedLine(odd, 1)), { ...odd, stagedAt: 1 });
  });

  it("still reads a line staged by the previous release, without a topic, after an upgrade", () => {
    const legacy = `1700000000123 ${document.index} ${document.id} ${document.source}`;
    assert.deepEqual(parseStagedLine(legacy), { ...document, topic: "", stagedAt: 1_700_000_000_123 });
  });

  it("never takes an encoded topic for a legacy line's JSON", () => {
    const braced = { ...document, topic: sampleTopic("node-1", "{load}") };
    assert.deepEqual(parseStagedLine(stagedLine(braced, 1)), { ...braced, stagedAt: 1 });
  });
});

describe("a bulk body", () => {
  it("is one create action with the document's id and one source line per document, newline-terminated", () => {
    const body = bulkBody([document, { ...document, id: "second" }]);
    const lines = body.split("\n");
    assert.equal(lines.length, 5);
    assert.equal(lines[4], "");
    assert.deepEqual(JSON.parse(lines[0]!), { create: { _index: document.index, _id: document.id } });
    assert.deepEqual(JSON.parse(lines[1]!), JSON.parse(document.source));
    assert.equal(JSON.parse(lines[2]!).create._id, "second");
  });
});

describe("staging in Redis", () => {
  const { redisUrl } = sharedServices();
  const prefix = uniqueName("st");
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queueConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(`${prefix}-bulk`, { connection: queueConnection });
  const key = `${prefix}:staging:test`;
  const options = { key, queuedKey: `${prefix}:queued-documents`, batchSize: 3, flushIntervalMs: 60_000 };
  // What the batcher reports failing; the pipeline logs it.
  const failures: Error[] = [];
  const noteFailure = (error: Error) => failures.push(error);
  after(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    queueConnection.disconnect();
    redis.disconnect();
  });

  it("moves full batches into batch lists inside Redis and queues a job naming each; partial ones wait", async () => {
    const queued: number[] = [];
    const staging = new Staging(redis, queue, options, (n) => queued.push(n), noteFailure);
    await staging.append([1, 2, 3, 4].map((n) => ({ ...document, id: `id-${n}` })));
    assert.equal(await staging.moveOne(), 3);
    assert.equal(await staging.moveOne(), 0, "one entry younger than the flush interval stays staged");
    assert.equal(await redis.llen(key), 1);
    const [job] = await queue.getJobs(["waiting"]);
    const batch = (job!.data as { batch: string }).batch;
    const lines = await batchStore(redis, options.queuedKey).read(batch);
    assert.deepEqual(
      lines.map((l) => parseStagedLine(l).id),
      ["id-1", "id-2", "id-3"],
    );
    assert.equal(await staging.moveOne(true), 1, "forced: the partial batch goes too");
    assert.deepEqual(queued, [3, 1]);
  });

  it("queues, at start, a batch that was moved but never queued (a crash in between), exactly once", async () => {
    const orphan = `${key}:batch:999`;
    await redis.rpush(orphan, stagedLine({ ...document, id: "orphan" }, Date.now()));
    const staging = new Staging(redis, queue, options, () => undefined, noteFailure);
    staging.start();
    await waitFor("the orphan's job", async () =>
      (await queue.getJobs(["waiting"])).some((j) => (j.data as { batch: string }).batch === orphan),
    );
    await staging.stop();
    const again = new Staging(redis, queue, options, () => undefined, noteFailure);
    again.start();
    await new Promise((r) => setTimeout(r, 300));
    await again.stop();
    const jobs = (await queue.getJobs(["waiting"])).filter(
      (j) => (j.data as { batch: string }).batch === orphan,
    );
    assert.equal(jobs.length, 1);
  });

  it("queues a moved batch whose job Redis refused before it moves another, so no batch waits for a restart", async () => {
    const refusing = Object.create(queue) as Queue;
    let refusals = 1;
    refusing.add = (async (...args: Parameters<Queue["add"]>) => {
      if (refusals-- > 0) throw new Error("OOM command not allowed when used memory > 'maxmemory'.");
      return queue.add(...args);
    }) as Queue["add"];
    const own = { ...options, key: `${key}:refused` };
    const queued: number[] = [];
    const staging = new Staging(redis, refusing, own, (n) => queued.push(n), noteFailure);
    await staging.append([1, 2, 3, 4, 5, 6].map((n) => ({ ...document, id: `refused-${n}` })));
    await assert.rejects(staging.moveOne(), /OOM/);
    assert.equal(
      await redis.llen(own.key),
      3,
      "the first batch left the staging list before its job was refused",
    );
    assert.equal(await staging.moveOne(), 3, "the refused batch's job is added first");
    assert.equal(await redis.llen(own.key), 3, "and nothing else moved with it");
    assert.equal(await staging.moveOne(), 3);
    const batches = (await queue.getJobs(["waiting"]))
      .map((j) => (j.data as { batch: string }).batch)
      .filter((b) => b.startsWith(own.key));
    const ids = (await Promise.all(batches.map((b) => batchStore(redis, options.queuedKey).read(b))))
      .flat()
      .map((l) => parseStagedLine(l).id);
    assert.deepEqual(
      ids.sort(),
      [1, 2, 3, 4, 5, 6].map((n) => `refused-${n}`),
    );
    assert.deepEqual(queued, [3, 3]);
  });

  it("reports the first of a run of failed moves once, and queues the batch when Redis takes it again", async () => {
    const refusing = Object.create(queue) as Queue;
    let refusals = 3;
    refusing.add = (async (...args: Parameters<Queue["add"]>) => {
      if (refusals-- > 0) throw new Error("OOM command not allowed when used memory > 'maxmemory'.");
      return queue.add(...args);
    }) as Queue["add"];
    const own = { ...options, key: `${key}:failing`, batchSize: 2 };
    const reported: Error[] = [];
    const staging = new Staging(
      redis,
      refusing,
      own,
      () => undefined,
      (error) => reported.push(error),
    );
    await staging.append([1, 2].map((n) => ({ ...document, id: `failing-${n}` })));
    staging.start();
    try {
      await waitFor("the batch's job", async () =>
        (await queue.getJobs(["waiting"])).some((j) =>
          (j.data as { batch: string }).batch.startsWith(own.key),
        ),
      );
    } finally {
      await staging.stop();
    }
    assert.ok(refusals < 0, "every refusal was retried");
    assert.deepEqual(
      reported.map((e) => e.message),
      ["OOM command not allowed when used memory > 'maxmemory'."],
    );
  });

  it("weighs its depth in documents: staged ones, and those in batches until each batch is removed", async () => {
    const own = { ...options, key: `${key}:depth`, queuedKey: `${key}:depth:queued` };
    const staging = new Staging(redis, queue, own, () => undefined, noteFailure);
    const store = batchStore(redis, own.queuedKey);
    await staging.append([1, 2, 3, 4].map((n) => ({ ...document, id: `depth-${n}` })));
    assert.equal(await staging.depth(), 4);
    assert.equal(await staging.moveOne(), 3);
    assert.equal(await staging.moveOne(true), 1, "a job of one document");
    assert.equal(await staging.depth(), 4, "moved documents still weigh until indexed");
    const batches = (await queue.getJobs(["waiting"]))
      .map((j) => (j.data as { batch: string }).batch)
      .filter((b) => b.startsWith(own.key));
    assert.equal(batches.length, 2);
    await store.remove(batches.find((b) => b.endsWith(":2"))!);
    assert.equal(await staging.depth(), 3, "the one-document job took one off, not a batch size");
    await store.remove(batches.find((b) => b.endsWith(":1"))!);
    await store.remove(batches.find((b) => b.endsWith(":1"))!);
    assert.equal(await staging.depth(), 0, "a batch removed twice takes nothing off the second time");
  });

  it("queues, after a reconnect, a batch that a move whose reply was lost left without a job", async () => {
    const own = { ...options, key: `${key}:lost-reply` };
    const hasJob = async (batch: string) =>
      (await queue.getJobs(["waiting"])).some((j) => (j.data as { batch: string }).batch === batch);
    const orphan = async (n: number) => {
      const batch = `${own.key}:batch:${n}`;
      await redis.rpush(batch, stagedLine({ ...document, id: `lost-reply-${n}` }, Date.now()));
      return batch;
    };
    const beforeStart = await orphan(1);
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const staging = new Staging(connection, queue, own, () => undefined, noteFailure);
    staging.start();
    try {
      await waitFor("the scan at start", () => hasJob(beforeStart));
      // What Redis holds when it ran a move and the connection dropped before the reply arrived.
      const lostReply = await orphan(2);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await hasJob(lostReply), false, "no scan while the connection holds");
      await redis.client("KILL", "ID", String(await connection.client("ID")));
      await waitFor("the orphan's job after the reconnect", () => hasJob(lostReply));
    } finally {
      await staging.stop();
      connection.disconnect();
    }
  });
});
