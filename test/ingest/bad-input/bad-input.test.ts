import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Client } from "@elastic/elasticsearch";
import mqtt from "mqtt";
import { METRIC_NAMES, REJECTION_REASONS } from "@cluster-telemetry/contract";
import {
  DEAD_LETTER_TEXT_LIMIT,
  dataStreamName,
  deadLetterDataStream,
} from "../../../ingest/src/setup/index-templates.ts";
import { MosquittoService, sharedServices, uniqueName } from "@cluster-telemetry/dev-stack";
import {
  Fleet,
  metricsOf,
  oracle,
  subscribedIngest,
  waitFor,
  waitForNoLoss,
  type IngestProcess,
} from "../fleet.ts";
import { BAD_INPUTS, ODD_BUT_VALID } from "./corpus.ts";

interface DeadLetter {
  error: { type: string; message: string };
  mqtt: { topic: string };
}

const cut = (topic: string) =>
  topic.length > DEAD_LETTER_TEXT_LIMIT ? `${topic.slice(0, DEAD_LETTER_TEXT_LIMIT)}…` : topic;

describe("telemetry-ingest fed bad input beside a steady valid stream", () => {
  const shared = sharedServices();
  const namespace = uniqueName("bad");
  const run = uniqueName("");
  const es = new Client({ node: shared.elasticsearchUrl, requestTimeout: 30_000 });
  let broker: MosquittoService;
  let ingest: IngestProcess;
  let publisher: mqtt.MqttClient;
  let fleet: Fleet;
  const now = Date.now();
  // Every bad message, by the topic its dead letter keeps: which case, how many, and the reason.
  const expected = new Map<string, { name: string; code: string; count: number }>();
  const pausedSeen: string[] = [];
  let metricsText = "";

  before(async () => {
    // Nothing here kills the broker: periodic saves keep it from rewriting its store after each of
    // the thousands of messages (some of them 64 KiB topics) queued for the ingest.
    broker = await MosquittoService.start({ persistence: "periodic" });
    ingest = await subscribedIngest(broker.url, namespace);
    publisher = await mqtt.connectAsync(broker.url, { clientId: uniqueName("hostile"), protocolVersion: 5 });
    fleet = new Fleet(broker.url);
    await fleet.connect();

    // The valid stream runs before, during and after the bad input; the intake is watched throughout.
    let streaming = true;
    let seq = 0;
    const stream = (async () => {
      while (streaming) {
        await fleet.publish(seq, seq + 20);
        seq += 20;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const watch = setInterval(() => {
      metricsOf(ingest).then(
        (text) => {
          if (/^telemetry_ingest_intake_paused 1$/m.test(text)) pausedSeen.push(new Date().toISOString());
        },
        () => undefined,
      );
    }, 200);
    try {
      for (const [i, input] of BAD_INPUTS.entries()) {
        for (const { topic, payload, retain } of input.messages(`c${i}-${run}`, now)) {
          await publisher.publishAsync(topic, payload, { qos: 1, retain: retain ?? false });
          const key = cut(topic);
          const entry = expected.get(key) ?? { name: input.name, code: input.code, count: 0 };
          entry.count += 1;
          expected.set(key, entry);
        }
      }
      for (const [i, odd] of ODD_BUT_VALID.entries()) {
        const host = `odd${i}-${run}`;
        const client =
          odd.publish?.protocolVersion === 4
            ? await mqtt.connectAsync(broker.url, { clientId: uniqueName("v311"), protocolVersion: 4 })
            : publisher;
        await client.publishAsync(`telemetry/v2/${host}/${odd.metric}`, odd.payload(host, now), {
          qos: odd.publish?.qos ?? 1,
        });
        if (client !== publisher) await client.endAsync();
      }
      const total = [...expected.values()].reduce((sum, e) => sum + e.count, 0);
      await waitFor(
        `${total} dead letters`,
        async () => {
          await es.indices.refresh({ index: deadLetterDataStream(namespace) }).catch(() => undefined);
          const { count } = await es
            .count({ index: deadLetterDataStream(namespace) })
            .catch(() => ({ count: 0 }));
          return count >= total;
        },
        180_000,
      );
    } finally {
      streaming = false;
      await stream;
      clearInterval(watch);
    }
    await waitForNoLoss(es, dataStreamName("load", namespace), fleet, 120_000, ingest);
    metricsText = await metricsOf(ingest);
  });
  after(async () => {
    ingest.child.kill("SIGKILL");
    await fleet.close();
    await publisher.endAsync();
    await es.close();
    await broker.process.stop();
  });

  it(`covers at least 60 kinds of bad input`, () => {
    assert.ok(BAD_INPUTS.length >= 60, `${BAD_INPUTS.length} kinds`);
  });

  it("makes every bad message exactly one dead letter with its reason", async () => {
    const { hits } = await es.search<DeadLetter>({
      index: deadLetterDataStream(namespace),
      size: 10_000,
      _source: ["error", "mqtt"],
    });
    const found = new Map<string, { count: number; codes: Set<string>; message: string }>();
    for (const hit of hits.hits) {
      const letter = hit._source!;
      const entry = found.get(letter.mqtt.topic) ?? {
        count: 0,
        codes: new Set(),
        message: letter.error.message,
      };
      entry.count += 1;
      entry.codes.add(letter.error.type);
      found.set(letter.mqtt.topic, entry);
    }
    const wrong: string[] = [];
    for (const [topic, want] of expected) {
      const got = found.get(topic);
      const codes = [...(got?.codes ?? [])].join(",");
      if (!got || got.count !== want.count || codes !== want.code)
        wrong.push(
          `${want.name}: want ${want.count} × ${want.code}, got ${got?.count ?? 0} × ${codes} (${got?.message.slice(0, 120)})`,
        );
      else assert.ok(got.message.startsWith(`${want.code}: `), `${want.name}: ${got.message}`);
    }
    const unexpected = [...found.keys()].filter((topic) => !expected.has(topic));
    assert.deepEqual(
      { wrong, unexpected: unexpected.map((t) => t.slice(0, 80)) },
      { wrong: [], unexpected: [] },
    );
  });

  it("indexes every valid sample of the steady stream exactly once", async () => {
    const verdict = await oracle(es, dataStreamName("load", namespace), fleet);
    assert.deepEqual(
      { lost: verdict.lost.length, duplicated: verdict.duplicated.length },
      { lost: 0, duplicated: 0 },
    );
    assert.ok(verdict.acked > 0);
  });

  it("indexes once what a careless but correct client sends (pretty-printed, CRLF, QoS 0 and 2, MQTT 3.1.1)", async () => {
    const missing: string[] = [];
    for (const [i, odd] of ODD_BUT_VALID.entries()) {
      const index = dataStreamName(odd.metric, namespace);
      const count = async () => {
        await es.indices.refresh({ index }).catch(() => undefined);
        return (await es.count({ index, query: { term: { "host.name": `odd${i}-${run}` } } })).count;
      };
      await waitFor(`${odd.name} indexed`, async () => (await count()) >= 1, 30_000).catch(() => undefined);
      const n = await count();
      if (n !== 1) missing.push(`${odd.name}: ${n} documents`);
    }
    assert.deepEqual(missing, []);
  });

  it("never pauses the intake for the valid hosts", () => {
    assert.deepEqual(pausedSeen, []);
    assert.doesNotMatch(ingest.output(), /"event":"intake_paused"/);
  });

  it("labels its refusal counter only with the contract's closed set of reasons", () => {
    const series = metricsText
      .split("\n")
      .filter((l) => l.startsWith("telemetry_ingest_messages_invalid_total{"));
    const labels = series.map((l) => /reason="([^"]*)"/.exec(l)?.[1] ?? l);
    for (const label of labels) assert.ok(Object.hasOwn(REJECTION_REASONS, label), label);
    assert.ok(
      metricsText.length < 32 * 1024,
      `/metrics is ${metricsText.length} bytes after 2,000 unknown metric names`,
    );
  });

  it("keeps the status mapping to the contract's sensors, whatever one node sent", async () => {
    const index = dataStreamName("status", namespace);
    const mapping = Object.values(await es.indices.getMapping({ index }))[0]!.mappings.properties!;
    const telemetry = mapping.telemetry as {
      properties: { sensors: { properties: Record<string, unknown> } };
    };
    for (const key of Object.keys(telemetry.properties.sensors.properties))
      assert.ok((METRIC_NAMES as string[]).includes(key), key);
  });
});
