import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Client } from "@elastic/elasticsearch";
import { ELASTICSEARCH_VERSION, sharedServices, uniqueName } from "@cluster-telemetry/dev-stack";

describe("the harness's Elasticsearch", () => {
  const client = new Client({ node: sharedServices().elasticsearchUrl, requestTimeout: 30_000 });
  const name = uniqueName("smoke");
  const stream = `smoke-${name}-default`;
  // This node cannot delete a data stream (test/README.md); the unique name keeps runs apart and the
  // harness discards its data directory when it stops.
  after(() => client.close());

  it("passes the client's product check and runs the pinned server version", async () => {
    // GET / lives in a module the Maven artifacts do not ship; node info carries the version and
    // goes through the same product check (x-elastic-product header) as every request.
    const info = await client.nodes.info({ node_id: "_local", metric: "settings" });
    const [node] = Object.values(info.nodes);
    assert.equal(node?.version, ELASTICSEARCH_VERSION);
  });

  it("applies a composable index template to a data stream created on its first write", async () => {
    await client.indices.putIndexTemplate({
      name,
      index_patterns: [`smoke-${name}-*`],
      priority: 600,
      data_stream: {},
      template: {
        settings: { number_of_replicas: 0, refresh_interval: "1s" },
        mappings: {
          properties: {
            "@timestamp": { type: "date" },
            host: { properties: { name: { type: "keyword" } } },
            load: { type: "float" },
          },
        },
      },
    });
    const now = Date.now();
    const docs = [0, 1, 2].map((i) => ({
      "@timestamp": new Date(now - i * 60_000).toISOString(),
      host: { name: i === 2 ? "b" : "a" },
      load: 0.5 + i,
    }));
    const bulk = await client.bulk({
      refresh: "wait_for",
      operations: docs.flatMap((doc) => [{ create: { _index: stream } }, doc]),
    });
    assert.equal(bulk.errors, false);
    assert.ok(bulk.items.every((item) => item.create?.status === 201));
    assert.ok(
      bulk.items[0]?.create?._index.startsWith(`.ds-${stream}-`),
      "written to a data stream backing index",
    );

    const mapping = await client.indices.getMapping({ index: stream });
    const properties = Object.values(mapping)[0]?.mappings.properties;
    assert.equal(
      (properties?.host as { properties: Record<string, { type: string }> }).properties.name?.type,
      "keyword",
    );
    assert.equal((properties?.load as { type: string }).type, "float");

    const found = await client.search({ index: stream, query: { term: { "host.name": "b" } } });
    assert.equal(found.hits.hits.length, 1);
    assert.equal((found.hits.hits[0]?._source as { load: number }).load, 2.5);

    const histogram = await client.search({
      index: stream,
      size: 0,
      aggs: {
        per_minute: {
          date_histogram: { field: "@timestamp", fixed_interval: "1m", min_doc_count: 1 },
          aggs: { avg_load: { avg: { field: "load" } }, max_load: { max: { field: "load" } } },
        },
        hosts: {
          terms: { field: "host.name" },
          aggs: { latest: { top_hits: { size: 1, sort: [{ "@timestamp": "desc" }] } } },
        },
      },
    });
    const perMinute = histogram.aggregations?.per_minute as { buckets: Array<{ doc_count: number }> };
    assert.equal(
      perMinute.buckets.reduce((sum, b) => sum + b.doc_count, 0),
      3,
    );
    const hosts = histogram.aggregations?.hosts as { buckets: Array<{ key: string; doc_count: number }> };
    assert.deepEqual(
      hosts.buckets.map((b) => [b.key, b.doc_count]),
      [
        ["a", 2],
        ["b", 1],
      ],
    );
  });
});
