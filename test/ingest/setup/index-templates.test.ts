import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Client } from "@elastic/elasticsearch";
import { pino } from "pino";
import { dataStreamFor, deadLetterStreamFor, METRIC_NAMES } from "@cluster-telemetry/contract";
import { TEMPLATE_PRIORITY, buildIndexTemplates } from "../../../ingest/src/setup/index-templates.ts";
import { installTemplates } from "../../../ingest/src/setup/install-templates.ts";
import { sharedServices, uniqueName } from "@cluster-telemetry/dev-stack";

type Props = Record<string, { type?: string; properties?: Props }>;
const leaf = (props: Props, path: string) =>
  path
    .split(".")
    .reduce<{ type?: string; properties?: Props } | undefined>((node, key) => node?.properties?.[key], {
      properties: props,
    });

describe("index templates derived from the contract", () => {
  const templates = buildIndexTemplates({ namespace: "default", retention: "30d" });

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
    assert.equal(leaf(cpu.properties, "system.cpu.cores")?.type, "integer");
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
