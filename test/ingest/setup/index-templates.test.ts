import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Client } from "@elastic/elasticsearch";
import { pino } from "pino";
import { Type } from "@sinclair/typebox";
import {
  dataStreamFor,
  deadLetterStreamFor,
  Entities,
  Fraction,
  Keyword,
  METRIC_NAMES,
  sample,
  type StreamKind,
} from "@cluster-telemetry/contract";
import {
  TEMPLATE_PRIORITY,
  buildIndexTemplates,
  mappingOf,
} from "../../../ingest/src/setup/index-templates.ts";
import { installTemplates } from "../../../ingest/src/setup/install-templates.ts";
import { syntheticFields } from "../../../agent/src/simulate/synthetic-fields.ts";
import { seededRandom } from "../../../agent/src/simulate/virtual-host.ts";
import { sharedServices, uniqueName } from "@cluster-telemetry/dev-stack";

type Field = {
  type?: string;
  properties?: Props;
  time_series_metric?: string;
  time_series_dimension?: boolean;
};
type Props = Record<string, Field>;
const leaf = (props: Props, path: string) =>
  path.split(".").reduce<Field | undefined>((node, key) => node?.properties?.[key], {
    properties: props,
  });
const mappingFor = (kind: StreamKind) =>
  (
    templates.find((t) => t.body.index_patterns[0] === dataStreamFor(kind, "default"))!.body.template
      .mappings as { properties: Props }
  ).properties;
const templates = buildIndexTemplates({ namespace: "default", retention: "30d" });

describe("index templates derived from the contract", () => {
  it("has one template per metric, one for status and one for dead letters, above the built-in priority", () => {
    assert.deepEqual(
      templates.map((t) => t.body.index_patterns[0]),
      [
        ...METRIC_NAMES.map((m) => dataStreamFor(m, "default")),
        dataStreamFor("status", "default"),
        deadLetterStreamFor("default"),
      ],
    );
    assert.ok(templates.every((t) => t.body.priority === TEMPLATE_PRIORITY && TEMPLATE_PRIORITY > 500));
    assert.ok(templates.every((t) => t.body.template.settings.refresh_interval === "1s"));
    assert.ok(templates.every((t) => t.body.template.lifecycle?.data_retention === "30d"));
  });

  it("maps host fields as keywords, @timestamp as a date and readings as numbers", () => {
    const mappingOfKind = (kind: string) =>
      templates.find((t) => t.name === `telemetry-${kind}-default`)!.body.template.mappings as {
        properties: Props;
      };
    const cpu = mappingOfKind("cpu");
    assert.equal(leaf(cpu.properties, "host.name")?.type, "keyword");
    assert.equal(leaf(cpu.properties, "@timestamp")?.type, "date");
    assert.equal(leaf(cpu.properties, "system.cpu.total.norm.pct")?.type, "float");
    assert.equal(leaf(cpu.properties, "system.cpu.total.pct")?.type, "float");
    assert.equal(leaf(cpu.properties, "system.cpu.steal.pct")?.type, "float");
    assert.equal(leaf(cpu.properties, "system.cpu.cores")?.type, "long");
    // ECS host.cpu.usage is mapped where it is sent, on cpu samples only.
    assert.equal(leaf(cpu.properties, "host.cpu.usage")?.type, "float");
    assert.equal(leaf(mappingOfKind("load").properties, "host.cpu.usage"), undefined);
    // One document per core: the entity list maps as its items.
    const core = mappingOfKind("core");
    assert.equal(leaf(core.properties, "system.core.id")?.type, "long");
    assert.equal(leaf(core.properties, "system.core.total.pct")?.type, "float");
    assert.equal(leaf(core.properties, "system.core.softirq.pct")?.type, "float");
    const temperature = mappingOfKind("temperature");
    assert.equal(leaf(temperature.properties, "system.temperature.celsius")?.type, "float");
    assert.equal(leaf(temperature.properties, "system.temperature.sensor")?.type, "keyword");
    const memory = mappingOfKind("memory");
    assert.equal(leaf(memory.properties, "system.memory.total")?.type, "long");
    // Metricbeat's memory fields, both meanings of "used".
    assert.equal(leaf(memory.properties, "system.memory.free")?.type, "long");
    assert.equal(leaf(memory.properties, "system.memory.used.bytes")?.type, "long");
    assert.equal(leaf(memory.properties, "system.memory.actual.used.bytes")?.type, "long");
    assert.equal(leaf(memory.properties, "system.memory.actual.used.pct")?.type, "float");
    assert.equal(leaf(memory.properties, "system.memory.swap.used.pct")?.type, "float");
  });

  it("declares the time-series role of every field as the system integration does", () => {
    for (const kind of [...METRIC_NAMES, "status"] as StreamKind[]) {
      assert.equal(leaf(mappingFor(kind), "host.name")?.time_series_dimension, true, kind);
      assert.equal(leaf(mappingFor(kind), "event.ingested")?.type, "date", kind);
    }
    const cpu = mappingFor("cpu");
    assert.equal(leaf(cpu, "system.cpu.total.norm.pct")?.time_series_metric, "gauge");
    assert.equal(leaf(cpu, "system.cpu.cores")?.time_series_metric, "gauge");
    assert.equal(leaf(cpu, "metricset.period")?.type, "long");
    assert.equal(leaf(cpu, "metricset.period")?.time_series_metric, undefined);
    assert.equal(leaf(mappingFor("load"), "system.load.norm.5")?.time_series_metric, "gauge");
    assert.equal(leaf(mappingFor("memory"), "system.memory.actual.free")?.time_series_metric, "gauge");
    assert.equal(leaf(mappingFor("temperature"), "system.temperature.celsius")?.time_series_metric, "gauge");
    assert.equal(leaf(mappingFor("status"), "telemetry.buffer.dropped")?.time_series_metric, "counter");
    assert.equal(leaf(mappingFor("status"), "telemetry.interval.ms")?.time_series_metric, undefined);
  });

  it("makes the key of a per-entity metric a dimension, with nothing to declare beyond Entities", () => {
    const mapped = mappingOf(
      Type.Object({
        filesystem: Entities(
          Type.Object({ mount_point: Keyword(), used: Type.Object({ pct: Fraction() }) }),
          "mount_point",
          64,
        ),
      }),
    ) as { properties: Props };
    assert.deepEqual(leaf(mapped.properties, "filesystem.mount_point"), {
      type: "keyword",
      time_series_dimension: true,
    });
    assert.equal(leaf(mapped.properties, "filesystem.used.pct")?.time_series_metric, "gauge");
  });

  describe("installed into the real Elasticsearch", () => {
    const es = new Client({ node: sharedServices().elasticsearchUrl });
    after(() => es.close());

    it("is accepted, idempotently, also by several instances starting at once", async () => {
      const namespace = uniqueName("t");
      const log = pino({ level: "silent" });
      await Promise.all([1, 2, 3].map(() => installTemplates(es, { namespace, retention: "7d" }, log)));
      await installTemplates(es, { namespace, retention: "7d" }, log);
      const stored = await es.indices.getIndexTemplate({ name: `telemetry-*-${namespace}` });
      assert.equal(stored.index_templates.length, METRIC_NAMES.length + 2);
    });

    it("keeps the time-series parameters on every data stream it creates, one sample of each metric", async () => {
      const namespace = uniqueName("t");
      await installTemplates(es, { namespace }, pino({ level: "silent" }));
      const origin = {
        host: { name: "ts-node" },
        agent: { type: "telemetry-agent", version: "test" },
        periodMs: 10_000,
      };
      for (const metric of METRIC_NAMES) {
        const index = dataStreamFor(metric, namespace);
        const fields = syntheticFields(metric, seededRandom(7));
        await es.index({ index, op_type: "create", document: sample(metric, origin, fields), refresh: true });
        const mapping = Object.values(await es.indices.getMapping({ index }))[0]!.mappings as {
          properties: Props;
        };
        assert.equal(leaf(mapping.properties, "host.name")?.time_series_dimension, true, metric);
        const found = await es.search({ index, query: { term: { "host.name": "ts-node" } } });
        assert.equal((found.hits.total as { value: number }).value, 1, metric);
      }
      const load = Object.values(await es.indices.getMapping({ index: dataStreamFor("load", namespace) }))[0]!
        .mappings as { properties: Props };
      assert.equal(leaf(load.properties, "system.load.1")?.time_series_metric, "gauge");
    });

    it("says which setting the cluster refused, with the cluster's reason, and installs the templates without it", async () => {
      const namespace = uniqueName("t");
      const lines: Array<{ setting?: string; msg: string }> = [];
      const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
      // Past the configuration's check, as a value a cluster of another version might refuse.
      await installTemplates(es, { namespace, retention: "forever" }, log);
      const refusal = lines.find((l) => l.setting === "lifecycle.data_retention");
      assert.ok(refusal, JSON.stringify(lines));
      assert.match(
        refusal.msg,
        /^Elasticsearch refused the index template setting lifecycle\.data_retention: "forever" \(.*forever.*\)/,
      );
      const stored = await es.indices.getIndexTemplate({ name: `telemetry-*-${namespace}` });
      assert.equal(stored.index_templates.length, METRIC_NAMES.length + 2);
    });
  });
});
