import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Queue, Worker, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { sharedServices, uniqueName } from "@cluster-telemetry/dev-stack";

describe("the harness's Redis", () => {
  const { redisUrl } = sharedServices();
  const { hostname, port } = new URL(redisUrl);
  // Options rather than shared instances: BullMQ then owns each connection and closes it.
  const connection = () => ({ host: hostname, port: Number(port), maxRetriesPerRequest: null });
  const closers: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  it("runs with AOF persistence and without eviction, as BullMQ requires", async () => {
    const redis = new Redis(redisUrl);
    closers.push(() => redis.quit());
    assert.deepEqual(await redis.config("GET", "appendonly"), ["appendonly", "yes"]);
    assert.deepEqual(await redis.config("GET", "maxmemory-policy"), ["maxmemory-policy", "noeviction"]);
  });

  it("processes a BullMQ job added through ioredis", async () => {
    const name = uniqueName("smoke");
    const queue = new Queue(name, { connection: connection() });
    const events = new QueueEvents(name, { connection: connection() });
    const worker = new Worker(name, async (job) => ({ doubled: (job.data as { n: number }).n * 2 }), {
      connection: connection(),
    });
    closers.push(async () => {
      await worker.close();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
    });
    await events.waitUntilReady();
    const job = await queue.add("double", { n: 21 });
    const result = (await job.waitUntilFinished(events, 30_000)) as { doubled: number };
    assert.deepEqual(result, { doubled: 42 });
  });
});
