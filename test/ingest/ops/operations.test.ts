import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Client } from "@elastic/elasticsearch";
import { Redis } from "ioredis";
import { MosquittoService, RedisService, sharedServices, uniqueName } from "@cluster-telemetry/dev-stack";
import {
  Fleet,
  httpPortOf,
  oracle,
  spawnIngest,
  waitFor,
  waitForNoLoss,
  type IngestProcess,
} from "../fleet.ts";
import { dataStreamFor } from "@cluster-telemetry/contract";

describe("operating the ingest", () => {
  const shared = { ...sharedServices(), mqttUrl: "" };
  // This file's own broker: persistent ingest sessions must not linger on the shared one.
  let broker: MosquittoService;
  before(async () => {
    broker = await MosquittoService.start();
    shared.mqttUrl = broker.url;
  });
  const es = new Client({ node: shared.elasticsearchUrl });
  const processes: IngestProcess[] = [];
  const fleets: Fleet[] = [];
  const envFor = (namespace: string, extra: NodeJS.ProcessEnv = {}) => ({
    MQTT_URL: shared.mqttUrl,
    REDIS_URL: shared.redisUrl,
    ELASTICSEARCH_URL: shared.elasticsearchUrl,
    INGEST_NAMESPACE: namespace,
    INGEST_REDIS_PREFIX: namespace,
    MQTT_CLIENT_ID: `ingest-${namespace}`,
    INGEST_FLUSH_INTERVAL: "200ms",
    ...extra,
  });
  const start = async (env: NodeJS.ProcessEnv) => {
    const p = spawnIngest([], env);
    processes.push(p);
    await waitFor(
      "the ingest to connect",
      () => p.output().includes('"event":"broker_connected"') && httpPortOf(p) !== undefined,
    );
    return p;
  };
  after(async () => {
    for (const p of processes) p.child.kill("SIGKILL");
    for (const f of fleets) await f.close();
    await es.close();
    await broker.process.stop();
  });

  it("answers /healthz, /readyz with each dependency, and /metrics in Prometheus format", async () => {
    const ingest = await start(envFor(uniqueName("o")));
    const base = `http://127.0.0.1:${httpPortOf(ingest)}`;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { broker: true, redis: true, elasticsearch: true });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const name of [
      "messages_received_total",
      "messages_acked_total",
      "messages_invalid_total",
      "documents_queued_total",
      "documents_indexed_total",
      "documents_duplicate_total",
      "documents_dead_lettered_total",
      "bulk_item_retries_total",
      "queue_depth",
      "bulk_duration_seconds_bucket",
    ]) {
      assert.match(metrics, new RegExp(`telemetry_ingest_${name}`), name);
    }
  });

  it("reports not ready while Redis is unreachable", async () => {
    const redis = await RedisService.start();
    try {
      const ingest = await start(envFor(uniqueName("o"), { REDIS_URL: redis.url }));
      const base = `http://127.0.0.1:${httpPortOf(ingest)}`;
      await redis.process.stop();
      const ready = await fetch(`${base}/readyz`);
      assert.equal(ready.status, 503);
      assert.equal(((await ready.json()) as { redis: boolean }).redis, false);
      ingest.child.kill("SIGKILL");
    } finally {
      await redis.process.stop();
    }
  });

  it("stops on SIGTERM with exit code 0, and a successor indexes what was left exactly once", async () => {
    const namespace = uniqueName("g");
    const first = await start(envFor(namespace));
    const fleet = new Fleet(shared.mqttUrl);
    fleets.push(fleet);
    await fleet.connect();
    // Kept small: with the ingest away, Mosquitto saves its store on every queued message (that is
    // what makes a kill -9 lose nothing), so each message costs a write of the whole store.
    const publishing = fleet.publish(0, 500);
    await waitFor(
      "indexing under way",
      async () =>
        (await es.count({ index: dataStreamFor("load", namespace) }).catch(() => ({ count: 0 }))).count > 0,
    );
    first.child.kill("SIGTERM");
    assert.equal(await first.exited, 0);
    await publishing;
    await start(envFor(namespace));
    const index = dataStreamFor("load", namespace);
    await waitForNoLoss(es, index, fleet, 90_000);
    assert.equal((await oracle(es, index, fleet)).duplicated.length, 0);
  });

  it("stops taking messages when Redis reaches maxmemory, evicts nothing, and recovers", async () => {
    const redis = await RedisService.start();
    try {
      const namespace = uniqueName("m");
      const ingest = await start(envFor(namespace, { REDIS_URL: redis.url, INGEST_BATCH_SIZE: "20" }));
      const fleet = new Fleet(shared.mqttUrl);
      fleets.push(fleet);
      await fleet.connect();
      await fleet.publish(0, 20);
      const index = dataStreamFor("load", namespace);
      await waitFor(
        "the data stream",
        async () => (await es.count({ index }).catch(() => ({ count: 0 }))).count === 20,
      );
      // Elasticsearch refuses writes (429) so jobs stay in Redis, and Redis gets little room.
      const writeIndex = Object.keys(await es.indices.get({ index }))[0]!;
      await es.indices.putSettings({
        index: writeIndex,
        settings: { "index.blocks.read_only_allow_delete": true },
      });
      const admin = new Redis(redis.url);
      const used = Number(/used_memory:(\d+)/.exec(await admin.info("memory"))?.[1]);
      await admin.config("SET", "maxmemory", String(used + 300_000));
      try {
        await fleet.publish(20, 3000);
        await waitFor(
          "Redis to refuse writes",
          () => ingest.output().includes('"event":"stage_failed"'),
          60_000,
        );
        assert.match(await admin.info("stats"), /evicted_keys:0\r?\n/);
      } finally {
        await admin.config("SET", "maxmemory", "0");
        await es.indices.putSettings({
          index: writeIndex,
          settings: { "index.blocks.read_only_allow_delete": null },
        });
        await admin.quit();
      }
      await waitForNoLoss(es, index, fleet, 120_000, ingest);
      assert.equal((await oracle(es, index, fleet)).duplicated.length, 0);
    } finally {
      await redis.process.stop();
    }
  });
});
