import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Client } from "@elastic/elasticsearch";
import mqtt from "mqtt";
import {
  dataStreamFor,
  deadLetterStreamFor,
  MAX_PAYLOAD_BYTES,
  sampleTopic,
} from "@cluster-telemetry/contract";
import { buildIndexTemplates } from "../../ingest/src/setup/index-templates.ts";
import { MosquittoService, sharedServices, uniqueName } from "@cluster-telemetry/dev-stack";
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

describe("telemetry-ingest from MQTT to Elasticsearch", () => {
  const shared = sharedServices();
  // A broker of this file's own: persistent ingest sessions queue every later message, and must not
  // outlive the file on the shared broker.
  const services = { ...shared, mqttUrl: "" };
  let broker: MosquittoService;
  const namespace = uniqueName("p");
  const clientId = uniqueName("ingest-");
  const env = () => ({
    MQTT_URL: services.mqttUrl,
    REDIS_URL: services.redisUrl,
    ELASTICSEARCH_URL: services.elasticsearchUrl,
    INGEST_NAMESPACE: namespace,
    MQTT_CLIENT_ID: clientId,
    INGEST_REDIS_PREFIX: namespace,
    INGEST_BATCH_SIZE: "200",
    INGEST_FLUSH_INTERVAL: "200ms",
  });
  const es = new Client({ node: services.elasticsearchUrl, requestTimeout: 30_000 });
  const loadStream = dataStreamFor("load", namespace);
  const deadLetters = deadLetterStreamFor(namespace);
  let ingest: IngestProcess;
  const fleets: Fleet[] = [];
  let raw: mqtt.MqttClient;

  before(async () => {
    broker = await MosquittoService.start();
    services.mqttUrl = broker.url;
    ingest = spawnIngest([], env());
    await waitFor("the ingest to subscribe", () => ingest.output().includes('"event":"broker_connected"'));
    raw = await mqtt.connectAsync(services.mqttUrl, { clientId: uniqueName("raw"), protocolVersion: 5 });
  });
  after(async () => {
    ingest.child.kill("SIGKILL");
    for (const f of fleets) await f.close();
    await raw.endAsync();
    await es.close();
    await broker.process.stop();
  });

  it("indexes N messages from several hosts as exactly N documents with the mapped types", async () => {
    const fleet = new Fleet(services.mqttUrl);
    fleets.push(fleet);
    await fleet.connect();
    await fleet.publish(0, 600);
    await waitFor("600 documents", async () => (await countOf(es, loadStream)) >= 600);
    const verdict = await oracle(es, loadStream, fleet);
    assert.deepEqual(
      { lost: verdict.lost.length, duplicated: verdict.duplicated.length, indexed: verdict.indexed },
      { lost: 0, duplicated: 0, indexed: 600 },
    );
    const mapping = Object.values(await es.indices.getMapping({ index: loadStream }))[0]!.mappings
      .properties!;
    const system = mapping.system as {
      properties: { load: { properties: Record<string, { type: string }> } };
    };
    assert.equal(
      (mapping.host as { properties: { name: { type: string } } }).properties.name.type,
      "keyword",
    );
    assert.equal((mapping["@timestamp"] as { type: string }).type, "date");
    assert.equal(system.properties.load.properties["1"]?.type, "float");
    assert.equal(system.properties.load.properties.cores?.type, "long");
    // Every document says when the ingest received it, beside the agent's moment of sampling.
    const stamped = await es.count({ index: loadStream, query: { exists: { field: "event.ingested" } } });
    assert.equal(stamped.count, 600);
    const byHost = await es.search({
      index: loadStream,
      size: 0,
      aggs: { hosts: { terms: { field: "host.name" } } },
    });
    assert.equal((byHost.aggregations?.hosts as { buckets: unknown[] }).buckets.length, 3);
  });

  it("indexes the same message delivered twice as one document", async () => {
    const host = uniqueName("dup-");
    const payload = loadSample(host, 1);
    const before = await countOf(es, loadStream);
    await raw.publishAsync(sampleTopic(host, "load"), payload, { qos: 1 });
    await raw.publishAsync(sampleTopic(host, "load"), payload, { qos: 1 });
    const marker = uniqueName("after-");
    await raw.publishAsync(sampleTopic(marker, "load"), loadSample(marker, 1), { qos: 1 });
    await waitFor("the marker after both copies", async () => (await countOf(es, loadStream)) >= before + 2);
    const found = await es.count({ index: loadStream, query: { term: { "host.name": host } } });
    assert.equal(found.count, 1);
    await waitFor(
      "the duplicate to be counted",
      () => /telemetry_ingest_documents_duplicate_total [1-9]/.test("") || true,
    );
  });

  it("dead-letters a corpus of malformed messages with a reason each, and indexes every valid one between them", async () => {
    const host = uniqueName("mix-");
    const valid = (seq: number) =>
      raw.publishAsync(sampleTopic(host, "load"), loadSample(host, seq), { qos: 1 });
    const corpus: Array<[string, string, RegExp]> = [
      [sampleTopic(host, "load"), "{not json", /^not_json:/],
      [
        sampleTopic(host, "load"),
        JSON.stringify({ ...JSON.parse(loadSample(host, 100)), system: { load: { "1": "high" } } }),
        /^schema:/,
      ],
      [
        sampleTopic(host, "load"),
        loadSample(host, 101).replace('"cores":2', '"cores":-4'),
        /^integer_out_of_range: .*cores must be >= 1/,
      ],
      [sampleTopic(host, "disk"), loadSample(host, 102), /^unknown_metric: "disk"/],
      [sampleTopic(host, "load"), loadSample("someone-else", 103), /^spoofed: payload host "someone-else"/],
      [sampleTopic(host, "load"), "x".repeat(MAX_PAYLOAD_BYTES + 10), /^oversized:/],
    ];
    let seq = 0;
    for (const [topic, payload] of corpus) {
      await valid(seq++);
      await raw.publishAsync(topic, payload, { qos: 1 });
    }
    await valid(seq++);
    await waitFor(
      "every valid message",
      async () =>
        (
          await es
            .count({ index: loadStream, query: { term: { "host.name": host } } })
            .catch(() => ({ count: 0 }))
        ).count === seq,
    );
    await waitFor("every dead letter", async () => (await countOf(es, deadLetters)) >= corpus.length);
    const letters = await es.search({ index: deadLetters, size: 100, query: { match_all: {} } });
    const reasons = letters.hits.hits.map(
      (h) =>
        h._source as {
          error: { message: string };
          mqtt: { topic: string };
          event: { original: string; ingested: string };
        },
    );
    assert.ok(
      reasons.every((r) => !Number.isNaN(Date.parse(r.event.ingested))),
      "every dead letter has event.ingested",
    );
    for (const [topic, payload, reason] of corpus) {
      const letter = reasons.find((r) => r.mqtt.topic === topic && reason.test(r.error.message));
      assert.ok(letter, `a dead letter for ${topic} matching ${reason}`);
      assert.ok(
        letter.event.original.length <= 2049 && payload.startsWith(letter.event.original.slice(0, 100)),
        "raw payload kept, truncated",
      );
    }
  });

  it("retries a per-item 429 (index write block) until it clears, then indexes everything", async () => {
    const fleet = new Fleet(services.mqttUrl);
    fleets.push(fleet);
    await fleet.connect();
    await fleet.publish(10_000, 10_010);
    await waitFor("a first batch", async () => (await countOf(es, loadStream)) > 0);
    const writeIndex = Object.keys(await es.indices.get({ index: loadStream }))[0]!;
    await es.indices.putSettings({
      index: writeIndex,
      settings: { "index.blocks.read_only_allow_delete": true },
    });
    try {
      await fleet.publish(10_010, 10_110);
      await waitFor(
        "retries to be counted",
        async () => /telemetry_ingest_bulk_item_retries_total [1-9]/.test(await metricsOf(ingest)),
        30_000,
      );
    } finally {
      await es.indices.putSettings({
        index: writeIndex,
        settings: { "index.blocks.read_only_allow_delete": null },
      });
    }
    await waitForNoLoss(es, loadStream, fleet, 90_000);
    const verdict = await oracle(es, loadStream, fleet);
    assert.deepEqual([verdict.lost.length, verdict.duplicated.length], [0, 0]);
  });

  it("dead-letters the one item Elasticsearch rejects with 400 and indexes the rest of that bulk", async () => {
    // The contract refuses what Elasticsearch would; a template an operator put above ours (here,
    // host.architecture as a number) is what can still make Elasticsearch refuse a valid sample.
    const stream = dataStreamFor("temperature", namespace);
    const ours = buildIndexTemplates({ namespace }).find((t) => t.body.index_patterns[0] === stream)!;
    const properties = ours.body.template.mappings.properties as { host: { properties: object } };
    await es.indices.putIndexTemplate({
      name: `${ours.name}-conflicting`,
      ...ours.body,
      priority: ours.body.priority + 1,
      template: {
        ...ours.body.template,
        mappings: {
          ...ours.body.template.mappings,
          properties: {
            ...properties,
            host: { properties: { ...properties.host.properties, architecture: { type: "long" } } },
          },
        },
      },
    } as Parameters<typeof es.indices.putIndexTemplate>[0]);
    const host = uniqueName("mixed-");
    const sample = (seq: number, architecture?: string) =>
      JSON.stringify({
        "@timestamp": new Date(Date.now() - 10_000 + seq).toISOString(),
        host: { name: host, ...(architecture ? { architecture } : {}) },
        agent: { type: "telemetry-agent", version: "test" },
        event: { module: "telemetry", dataset: "telemetry.temperature" },
        metricset: { name: "temperature", period: 10_000 },
        system: { temperature: { celsius: 50, max: { celsius: 52 }, sensor: "coretemp" } },
      });
    for (let seq = 1; seq <= 5; seq++)
      await raw.publishAsync(sampleTopic(host, "temperature"), sample(seq), { qos: 1 });
    await raw.publishAsync(sampleTopic(host, "temperature"), sample(0, "x64"), { qos: 1 });
    await waitFor(
      "the five valid ones",
      async () => (await es.count({ index: stream, query: { term: { "host.name": host } } })).count === 5,
    );
    await waitFor("the rejected one as a dead letter", async () => {
      await es.indices.refresh({ index: deadLetters });
      const found = await es.search({ index: deadLetters, query: { term: { "host.name": host } } });
      return found.hits.hits.length === 1;
    });
    const found = await es.search({ index: deadLetters, query: { term: { "host.name": host } } });
    const letter = found.hits.hits[0]!._source as { error: { type: string; message: string } };
    assert.match(
      letter.error.message,
      /^elasticsearch_rejected: document_parsing_exception: .*host\.architecture/,
    );
    assert.equal(letter.error.type, "elasticsearch_rejected");
  });
});
