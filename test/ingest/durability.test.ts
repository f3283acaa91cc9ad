import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Client } from "@elastic/elasticsearch";
import mqtt from "mqtt";
import { dataStreamFor, sampleTopic, statusTopic } from "@cluster-telemetry/contract";
import {
  ElasticsearchService,
  MosquittoService,
  RedisService,
  sharedServices,
  uniqueName,
} from "@cluster-telemetry/dev-stack";
import {
  Fleet,
  countOf,
  loadSample,
  metricsOf,
  oracle,
  spawnIngest,
  waitFor,
  waitForNoLoss,
  type IngestProcess,
} from "./fleet.ts";

/** Every durability test ends with the same oracle: nothing acknowledged lost, nothing twice. */
async function assertExactlyOnce(
  es: Client,
  index: string,
  fleet: Fleet,
  ingest?: IngestProcess,
  timeoutMs = 120_000,
): Promise<void> {
  await waitForNoLoss(es, index, fleet, timeoutMs, ingest);
  const verdict = await oracle(es, index, fleet);
  assert.equal(verdict.lost.length, 0, `lost: ${verdict.lost.slice(0, 5).join(", ")}`);
  assert.equal(verdict.duplicated.length, 0, `duplicated: ${verdict.duplicated.slice(0, 5).join(", ")}`);
  assert.equal(verdict.indexed, verdict.acked);
}

function ingestEnv(
  urls: { mqtt: string; redis: string; elasticsearch: string },
  namespace: string,
  extra: NodeJS.ProcessEnv = {},
) {
  return {
    MQTT_URL: urls.mqtt,
    REDIS_URL: urls.redis,
    ELASTICSEARCH_URL: urls.elasticsearch,
    INGEST_NAMESPACE: namespace,
    INGEST_REDIS_PREFIX: namespace,
    MQTT_CLIENT_ID: `ingest-${namespace}`,
    INGEST_BATCH_SIZE: "100",
    INGEST_FLUSH_INTERVAL: "200ms",
    ...extra,
  };
}

const started = (p: IngestProcess) =>
  waitFor("the ingest to connect", () => p.output().includes('"event":"broker_connected"'));

describe("telemetry-ingest when things fail", () => {
  const shared = sharedServices();
  // This file's own broker: the persistent sessions of killed ingests must not linger on the shared one.
  let broker: MosquittoService;
  const urls = { mqtt: "", redis: shared.redisUrl, elasticsearch: shared.elasticsearchUrl };
  const es = new Client({ node: shared.elasticsearchUrl, requestTimeout: 30_000 });
  before(async () => {
    broker = await MosquittoService.start();
    urls.mqtt = broker.url;
  });
  const processes: IngestProcess[] = [];
  const fleets: Fleet[] = [];
  const spawn = (env: NodeJS.ProcessEnv) => {
    const p = spawnIngest([], env);
    processes.push(p);
    return p;
  };
  after(async () => {
    for (const p of processes) p.child.kill("SIGKILL");
    for (const f of fleets) await f.close();
    await es.close();
    await broker.process.stop();
  });
  const fleetOn = async (url: string) => {
    const fleet = new Fleet(url);
    fleets.push(fleet);
    await fleet.connect();
    return fleet;
  };

  it("indexes every message exactly once when the ingest is killed mid-stream and restarted", async () => {
    const namespace = uniqueName("k");
    const env = ingestEnv(urls, namespace);
    const first = spawn(env);
    await started(first);
    const fleet = await fleetOn(urls.mqtt);
    const publishing = fleet.publish(0, 3000);
    await waitFor(
      "indexing under way",
      async () =>
        (await es.count({ index: dataStreamFor("load", namespace) }).catch(() => ({ count: 0 }))).count > 0,
    );
    first.child.kill("SIGKILL");
    await first.exited;
    await publishing;
    const second = spawn(env);
    await started(second);
    await assertExactlyOnce(es, dataStreamFor("load", namespace), fleet);
  });

  it("two instances on a shared subscription split the load with no loss and no duplicate", async () => {
    const namespace = uniqueName("s");
    const a = spawn(
      ingestEnv(urls, namespace, { MQTT_CLIENT_ID: `${namespace}-a`, INGEST_SHARE_GROUP: namespace }),
    );
    const b = spawn(
      ingestEnv(urls, namespace, { MQTT_CLIENT_ID: `${namespace}-b`, INGEST_SHARE_GROUP: namespace }),
    );
    await Promise.all([started(a), started(b)]);
    const fleet = await fleetOn(urls.mqtt);
    await fleet.publish(0, 1000);
    await assertExactlyOnce(es, dataStreamFor("load", namespace), fleet);
    const received = async (p: IngestProcess) => {
      const text = await metricsOf(p);
      return Number(/telemetry_ingest_messages_received_total (\d+)/.exec(text)?.[1] ?? 0);
    };
    const [ra, rb] = [await received(a), await received(b)];
    assert.ok(ra > 0 && rb > 0, `both instances took a share (${ra} and ${rb})`);
    // Retained status messages of other hosts on this broker arrive too; the oracle above is the count that matters.
    assert.ok(ra + rb >= 1000);
  });

  it("loses nothing acknowledged when Redis restarts and when it is killed -9; no PUBACK while it is down", async () => {
    const redis = await RedisService.start();
    try {
      const namespace = uniqueName("r");
      const ingest = spawn(ingestEnv({ ...urls, redis: redis.url }, namespace));
      await started(ingest);
      const fleet = await fleetOn(urls.mqtt);
      await fleet.publish(0, 500);
      await redis.restart();
      await fleet.publish(500, 1000);
      await redis.process.kill();
      const metrics = () => metricsOf(ingest);
      const ackedOf = (text: string) =>
        Number(/telemetry_ingest_messages_acked_total (\d+)/.exec(text)?.[1] ?? 0);
      const ackedBefore = ackedOf(await metrics());
      await fleet.publish(1000, 1100);
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(ackedOf(await metrics()), ackedBefore, "nothing acknowledged while Redis is down");
      await redis.process.start();
      await assertExactlyOnce(es, dataStreamFor("load", namespace), fleet, ingest);
    } finally {
      await redis.process.stop();
    }
  });

  it("takes retained statuses with a new subscription, not again each time it resumes its session", async () => {
    const namespace = uniqueName("r");
    const env = ingestEnv(urls, namespace);
    const host = uniqueName("retained");
    const publisher = await mqtt.connectAsync(urls.mqtt, { clientId: uniqueName("pub"), protocolVersion: 5 });
    try {
      const status = {
        "@timestamp": new Date().toISOString(),
        host: { name: host, architecture: "x64" },
        agent: { type: "telemetry-agent", version: "test" },
        event: { module: "telemetry", dataset: "telemetry.status" },
        telemetry: { status: "online", interval: { ms: 10_000 }, sensors: {}, buffer: { dropped: 0 } },
      };
      await publisher.publishAsync(statusTopic(host), JSON.stringify(status), { qos: 1, retain: true });
      const first = spawn(env);
      await started(first);
      const statusStream = dataStreamFor("status", namespace);
      await waitFor("the retained status indexed", async () => (await countOf(es, statusStream)) === 1);
      first.child.kill("SIGTERM");
      assert.equal(await first.exited, 0);

      const second = spawn(env);
      await started(second);
      await publisher.publishAsync(sampleTopic(host, "load"), loadSample(host, 0), { qos: 1 });
      const loadStream = dataStreamFor("load", namespace);
      await waitFor("the new sample indexed", async () => (await countOf(es, loadStream)) === 1);
      // Retained messages precede later ones on a subscription: had the status come again, it would be counted by now.
      assert.match(await metricsOf(second), /^telemetry_ingest_messages_received_total 1$/m);
    } finally {
      await publisher.endAsync();
    }
  });

  it("stops on SIGTERM while its intake is paused, and the next ingest indexes everything once", async () => {
    const namespace = uniqueName("t");
    const env = ingestEnv(urls, namespace, { INGEST_HIGH_WATER: "300", INGEST_LOW_WATER: "100" });
    const first = spawn(env);
    await started(first);
    const fleet = await fleetOn(urls.mqtt);
    await fleet.publish(0, 50);
    const index = dataStreamFor("load", namespace);
    await waitFor("the first samples", async () => (await countOf(es, index)) === 50);
    // Elasticsearch refuses writes (429): jobs stay queued until the intake pauses with messages held.
    const writeIndex = Object.keys(await es.indices.get({ index }))[0]!;
    await es.indices.putSettings({
      index: writeIndex,
      settings: { "index.blocks.read_only_allow_delete": true },
    });
    try {
      await fleet.publish(50, 1200);
      await waitFor("the intake to pause", () => first.output().includes('"event":"intake_paused"'));
      first.child.kill("SIGTERM");
      await waitFor("the ingest to exit", () => first.child.exitCode !== null);
      assert.equal(first.child.exitCode, 0);
    } finally {
      await es.indices.putSettings({
        index: writeIndex,
        settings: { "index.blocks.read_only_allow_delete": null },
      });
    }
    await started(spawn(env));
    await assertExactlyOnce(es, index, fleet);
  });

  it("keeps the persistent session's queue across a broker kill -9 while the ingest is stopped", async () => {
    const own = await MosquittoService.start();
    try {
      const namespace = uniqueName("b");
      const env = ingestEnv({ ...urls, mqtt: own.url }, namespace);
      const first = spawn(env);
      await started(first);
      first.child.kill("SIGTERM");
      assert.equal(await first.exited, 0);
      const fleet = await fleetOn(own.url);
      await fleet.publish(0, 300);
      await fleet.close();
      await own.process.kill();
      await own.process.start();
      const second = spawn(env);
      await started(second);
      await assertExactlyOnce(es, dataStreamFor("load", namespace), fleet);
    } finally {
      await own.process.stop();
    }
  });
});

describe("telemetry-ingest while Elasticsearch is down", () => {
  it("pauses the intake above the high-water mark and indexes everything once Elasticsearch is back", async () => {
    const shared = sharedServices();
    const broker = await MosquittoService.start();
    const elasticsearch = await ElasticsearchService.start({ heap: "512m" });
    const es = new Client({ node: elasticsearch.url, requestTimeout: 30_000 });
    const namespace = uniqueName("e");
    const ingest = spawnIngest(
      [],
      ingestEnv({ mqtt: broker.url, redis: shared.redisUrl, elasticsearch: elasticsearch.url }, namespace, {
        INGEST_BATCH_SIZE: "50",
        INGEST_HIGH_WATER: "400",
        INGEST_LOW_WATER: "100",
      }),
    );
    const fleet = new Fleet(broker.url);
    try {
      await started(ingest);
      await fleet.connect();
      await fleet.publish(0, 100);
      await waitFor(
        "the first samples",
        async () =>
          (await es.count({ index: dataStreamFor("load", namespace) }).catch(() => ({ count: 0 }))).count ===
          100,
      );
      await elasticsearch.process.stop();
      await fleet.publish(100, 1500);
      await waitFor("the intake to pause", () => ingest.output().includes('"event":"intake_paused"'));
      await elasticsearch.process.start();
      await assertExactlyOnce(es, dataStreamFor("load", namespace), fleet, undefined, 180_000);
      assert.ok(ingest.output().includes('"event":"intake_resumed"'));
    } finally {
      ingest.child.kill("SIGKILL");
      await fleet.close();
      await es.close();
      await elasticsearch.process.stop();
      await broker.process.stop();
    }
  });
});
