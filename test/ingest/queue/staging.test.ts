import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { bulkBody } from "../../../ingest/src/indexer/indexer.ts";
import { Staging, batchStore, parseStagedLine, stagedLine } from "../../../ingest/src/queue/staging.ts";
import { sharedServices, uniqueName } from "../../harness/index.ts";
import { waitFor } from "../../harness/program.ts";

const document = {
  index: "metrics-telemetry.load-default",
  id: "Zm9vYmFy_-",
  source: '{"host":{"name":"a b"},"note":"spaces and \\n escapes survive"}',
};

describe("a staged entry", () => {
  it("round-trips index, id and the JSON source untouched, with the time it was staged", () => {
    const line = stagedLine(document, 1_700_000_000_123);
    assert.deepEqual(parseStagedLine(line), { ...document, stagedAt: 1_700_000_000_123 });
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
  const options = { key, batchSize: 3, flushIntervalMs: 60_000 };
  after(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    queueConnection.disconnect();
    redis.disconnect();
  });

  it("moves full batches into batch lists inside Redis and queues a job naming each; partial ones wait", async () => {
    const queued: number[] = [];
    const staging = new Staging(redis, queue, options, (n) => queued.push(n));
    await staging.append([1, 2, 3, 4].map((n) => ({ ...document, id: `id-${n}` })));
    assert.equal(await staging.moveOne(), 3);
    assert.equal(await staging.moveOne(), 0, "one entry younger than the flush interval stays staged");
    assert.equal(await staging.length(), 1);
    const [job] = await queue.getJobs(["waiting"]);
    const batch = (job!.data as { batch: string }).batch;
    const lines = await batchStore(redis).read(batch);
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
    const staging = new Staging(redis, queue, options, () => undefined);
    staging.start();
    await waitFor("the orphan's job", async () =>
      (await queue.getJobs(["waiting"])).some((j) => (j.data as { batch: string }).batch === orphan),
    );
    await staging.stop();
    const again = new Staging(redis, queue, options, () => undefined);
    again.start();
    await new Promise((r) => setTimeout(r, 300));
    await again.stop();
    const jobs = (await queue.getJobs(["waiting"])).filter(
      (j) => (j.data as { batch: string }).batch === orphan,
    );
    assert.equal(jobs.length, 1);
  });
});
