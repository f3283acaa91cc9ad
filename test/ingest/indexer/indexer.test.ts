import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Client } from "@elastic/elasticsearch";
import { pino } from "pino";
import { sampleDocuments } from "../../../ingest/src/documents.ts";
import { Indexer } from "../../../ingest/src/indexer/indexer.ts";
import { createMetrics } from "../../../ingest/src/ops/metrics.ts";
import type { BatchStore } from "../../../ingest/src/queue/staging.ts";
import { installTemplates } from "../../../ingest/src/setup/install-templates.ts";
import { dataStreamFor, deadLetterStreamFor, decodeMessage, sampleTopic } from "@cluster-telemetry/contract";
import { sharedServices, uniqueName } from "@cluster-telemetry/dev-stack";
import { countOf, loadSample } from "../fleet.ts";

// settle() is called directly with documents; the batch store is not used on that path.
const unusedStore: BatchStore = {
  read: () => Promise.reject(new Error("not used")),
  remove: () => Promise.reject(new Error("not used")),
};

describe("Indexer against a real Elasticsearch", () => {
  const { elasticsearchUrl } = sharedServices();
  const es = new Client({ node: elasticsearchUrl, requestTimeout: 30_000 });
  after(() => es.close());

  const valid = (host: string, seq: number) => {
    const decoded = decodeMessage(sampleTopic(host, "load"), loadSample(host, seq));
    assert.ok(decoded.ok);
    return decoded;
  };

  it("isolates a document that makes Elasticsearch refuse the whole request, dead-letters it with the reason, and indexes the rest", async () => {
    const namespace = uniqueName("idx");
    const log = pino({ level: "silent" });
    await installTemplates(es, { namespace }, log);
    const metrics = createMetrics();
    const indexer = new Indexer(es, unusedStore, namespace, metrics, log);
    const host = uniqueName("node-");
    const documents = Array.from({ length: 40 }, (_, seq) =>
      sampleDocuments(valid(host, seq), namespace),
    ).flat();
    // What a version that indexed a payload's text as received left in Redis: a pretty-printed
    // source spans lines, and Elasticsearch refuses the whole NDJSON body ("Malformed action/metadata line").
    const broken = { ...documents[17]!, source: JSON.stringify(JSON.parse(documents[17]!.source), null, 2) };
    documents[17] = broken;

    await indexer.settle(documents);

    assert.equal(await countOf(es, dataStreamFor("load", namespace)), 39);
    const deadLetters = deadLetterStreamFor(namespace);
    await es.indices.refresh({ index: deadLetters });
    const { hits } = await es.search<{
      error: { type: string; message: string };
      event: { original: string };
      host: { name: string };
      mqtt: { topic: string };
    }>({
      index: deadLetters,
    });
    assert.equal(hits.hits.length, 1);
    const letter = hits.hits[0]!._source!;
    assert.equal(letter.error.type, "elasticsearch_rejected");
    assert.match(
      letter.error.message,
      /^elasticsearch_rejected: \w+: .+/,
      "Elasticsearch's own type and reason",
    );
    assert.equal(letter.event.original, broken.source);
    assert.equal(letter.mqtt.topic, sampleTopic(host, "load"), "the topic the sample came from");
    assert.equal(letter.host.name, host);
    const counted = await metrics.registry.getSingleMetricAsString(
      "telemetry_ingest_documents_dead_lettered_total",
    );
    assert.match(counted, / 1$/m);
  });
});
