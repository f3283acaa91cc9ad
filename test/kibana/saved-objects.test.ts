import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dataStreamFor, deadLetterStreamFor, METRIC_NAMES, STATUS_LEVEL } from "@cluster-telemetry/contract";
import {
  controlsOf,
  dashboardsOf,
  dataViewFields,
  indexPatternMatches,
  kqlFields,
  layersOf,
  panelsOf,
  readLines,
  readSavedObjects,
  visualisationsOf,
  type LensColumn,
  type SavedObject,
  type Visualisation,
} from "./saved-objects.ts";

const { objects, summary } = readSavedObjects();
const dataView = objects.find((o) => o.type === "index-pattern")!;
const pattern = dataView.attributes.title as string;
const dashboard = dashboardsOf(objects).find((d) => d.attributes.title === "Cluster telemetry")!;
const fields = dataViewFields(pattern);

const NUMERIC = new Set([
  "float",
  "double",
  "half_float",
  "scaled_float",
  "long",
  "integer",
  "short",
  "byte",
]);
/** The mapped types each Lens operation can aggregate, by the column's data type. */
function aggregatable(column: LensColumn): Set<string> {
  switch (column.operationType) {
    case "date_histogram":
      return new Set(["date"]);
    case "terms":
      // Lens splits by a number's values too (system.core.id is a long, as in Metricbeat).
      return column.dataType === "number" ? NUMERIC : new Set(["keyword"]);
    case "average":
    case "sum":
    case "median":
      return NUMERIC;
    case "max":
    case "min":
    case "last_value":
      if (column.dataType === "date") return new Set(["date"]);
      if (column.dataType === "string") return new Set(["keyword"]);
      return NUMERIC;
    default:
      return new Set();
  }
}

function visualisation(title: string): Visualisation {
  const found = visualisationsOf(objects).find((v) => v.attributes.title === title);
  assert.ok(found, `a visualisation titled "${title}"`);
  return found;
}

function columns(v: Visualisation): LensColumn[] {
  return layersOf(v).flatMap(([, layer]) => layer.columnOrder.map((id) => layer.columns[id]!));
}

describe("the Kibana saved objects file", () => {
  it("holds one JSON object per line, ending with an export summary that counts them", () => {
    for (const [n, line] of readLines().entries()) {
      const parsed: unknown = JSON.parse(line);
      assert.ok(parsed && typeof parsed === "object" && !Array.isArray(parsed), `line ${n + 1} is an object`);
    }
    assert.deepEqual(summary && { count: summary.exportedCount, missing: summary.missingRefCount }, {
      count: objects.length,
      missing: 0,
    });
    assert.deepEqual(objects.map((o) => o.type).sort(), ["dashboard", "index-pattern"]);
  });

  it("gives every object a stable id, unique per type, and a migration version Kibana can start from", () => {
    const keys = objects.map((o) => `${o.type}:${o.id}`);
    assert.equal(new Set(keys).size, keys.length);
    assert.equal(dataView.id, "cluster-telemetry-metrics");
    for (const o of objects) {
      assert.match(o.coreMigrationVersion ?? "", /^\d+\.\d+\.\d+$/, `${o.type} ${o.id} coreMigrationVersion`);
      assert.match(o.typeMigrationVersion ?? "", /^\d+\.\d+\.\d+$/, `${o.type} ${o.id} typeMigrationVersion`);
    }
  });

  it("lets every reference, of an object or inside a panel, point to an object in the file", () => {
    const present = new Set(objects.map((o) => `${o.type}:${o.id}`));
    const inner = visualisationsOf(objects).flatMap((v) => v.attributes.references);
    const all = [...objects.flatMap((o: SavedObject) => o.references), ...inner];
    assert.ok(all.length > 0);
    for (const ref of all)
      assert.ok(present.has(`${ref.type}:${ref.id}`), `reference ${ref.name} → ${ref.id}`);
  });

  it("names one data-view reference per Lens layer and per control, as Kibana resolves them", () => {
    const names = new Set(dashboard.references.map((r) => r.name));
    for (const panel of panelsOf(dashboard)) {
      const attributes = panel.embeddableConfig.attributes!;
      assert.equal(panel.gridData.i, panel.panelIndex);
      const inner = new Set(attributes.references.map((r) => r.name));
      for (const [layerId] of layersOf({ origin: panel.panelIndex, attributes })) {
        assert.ok(names.has(`${panel.panelIndex}:indexpattern-datasource-layer-${layerId}`), layerId);
        assert.ok(inner.has(`indexpattern-datasource-layer-${layerId}`), layerId);
      }
    }
    for (const control of controlsOf(dashboard))
      assert.ok(names.has(`controlGroup_${control.id}:optionsListDataView`), control.id);
  });

  it("lays the panels out on Kibana's 48-column grid without overlaps", () => {
    const cells = new Set<string>();
    for (const { gridData: g, panelIndex } of panelsOf(dashboard)) {
      assert.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 48, `${panelIndex} fits the width`);
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          assert.ok(!cells.has(`${x},${y}`), `${panelIndex} overlaps at ${x},${y}`);
          cells.add(`${x},${y}`);
        }
    }
  });
});

describe("the data view", () => {
  it("matches the data stream of every metric and of status in any namespace, on @timestamp", () => {
    assert.equal(dataView.attributes.timeFieldName, "@timestamp");
    for (const kind of [...METRIC_NAMES, STATUS_LEVEL])
      for (const namespace of ["default", "prod_eu"])
        assert.ok(indexPatternMatches(pattern, dataStreamFor(kind, namespace)), `${kind} in ${namespace}`);
    assert.deepEqual(fields.get("@timestamp"), new Set(["date"]));
  });

  it("does not match the dead-letter stream, whose documents are not samples", () => {
    assert.equal(indexPatternMatches(pattern, deadLetterStreamFor("default")), false);
  });

  it("formats every fraction as a percent, and names only fields the templates map", () => {
    const formats = JSON.parse(dataView.attributes.fieldFormatMap as string) as Record<
      string,
      { id: string }
    >;
    for (const field of Object.keys(formats)) assert.ok(fields.has(field), `${field} is mapped`);
    const fractions = [...fields.keys()].filter((f) => f.endsWith(".pct") || f === "host.cpu.usage");
    assert.ok(
      fractions.includes("system.core.total.pct"),
      "the core metric's fractions are in the data view",
    );
    for (const field of fractions) assert.equal(formats[field]?.id, "percent", `${field} shows as a percent`);
  });

  it("sees no field with two different types across the data streams it spans", () => {
    const conflicts = [...fields].filter(([, types]) => types.size > 1).map(([f]) => f);
    assert.deepEqual(conflicts, []);
  });
});

describe("the dashboard's visualisations", () => {
  it("reference only fields the index templates map, with a type their operation aggregates", () => {
    let checked = 0;
    for (const v of visualisationsOf(objects)) {
      for (const column of columns(v)) {
        if (!column.sourceField || column.sourceField === "___records___") continue;
        const types = fields.get(column.sourceField);
        assert.ok(types, `${v.origin}: ${column.sourceField} is mapped`);
        for (const type of types)
          assert.ok(
            aggregatable(column).has(type),
            `${v.origin}: ${column.operationType} cannot aggregate ${column.sourceField} (${type})`,
          );
        checked++;
        // A split on several fields (multi_terms) aggregates each of them as a keyword.
        for (const second of (column.params?.secondaryFields as string[] | undefined) ?? []) {
          assert.deepEqual(fields.get(second), new Set(["keyword"]), `${v.origin}: ${second} is a keyword`);
          checked++;
        }
      }
    }
    assert.ok(checked >= 15, `${checked} columns checked`);
  });

  it("filter and query only on mapped fields", () => {
    const queries = visualisationsOf(objects).flatMap((v) => [
      v.attributes.state.query.query,
      ...columns(v).map((c) => c.filter?.query ?? ""),
    ]);
    const named = queries.flatMap(kqlFields);
    assert.ok(named.length > 0);
    for (const field of named) assert.ok(fields.has(field), `${field} is mapped`);
  });

  it("show CPU busy over time, one line per host", () => {
    const v = visualisation("CPU busy per host");
    assert.equal(v.attributes.visualizationType, "lnsXY");
    const ops = columns(v).map((c) => `${c.operationType} ${c.sourceField}`);
    assert.deepEqual(ops, [
      "date_histogram @timestamp",
      "terms host.name",
      "average system.cpu.total.norm.pct",
    ]);
    const [layer] = v.attributes.state.visualization.layers as Array<{
      splitAccessor: string;
      seriesType: string;
    }>;
    assert.equal(layer!.seriesType, "line");
    assert.equal(layer!.splitAccessor, layersOf(v)[0]![1].columnOrder[1]);
  });

  it("show temperature over time per host with an 80 °C warning line", () => {
    const v = visualisation("CPU temperature per host");
    const all = columns(v);
    assert.deepEqual(
      all.filter((c) => c.sourceField).map((c) => `${c.operationType} ${c.sourceField}`),
      ["date_histogram @timestamp", "terms host.name", "average system.temperature.celsius"],
    );
    const threshold = all.find((c) => c.operationType === "static_value");
    assert.equal(threshold?.params?.value, "80");
    const layers = v.attributes.state.visualization.layers as Array<{
      layerType: string;
      accessors: string[];
    }>;
    assert.deepEqual(
      layers.map((l) => l.layerType),
      ["data", "referenceLine"],
    );
  });

  it("list hosts with latest temperature, CPU and load and last-seen time, hottest first", () => {
    const v = visualisation("Hosts, hottest first");
    assert.equal(v.attributes.visualizationType, "lnsDatatable");
    const [[, layer]] = layersOf(v) as [
      [string, { columns: Record<string, LensColumn>; columnOrder: string[] }],
    ];
    const ops = layer.columnOrder.map(
      (id) => `${layer.columns[id]!.operationType} ${layer.columns[id]!.sourceField}`,
    );
    assert.deepEqual(ops, [
      "terms host.name",
      "last_value system.temperature.celsius",
      "max system.temperature.celsius",
      "last_value system.cpu.total.norm.pct",
      "last_value system.load.1",
      "max @timestamp",
    ]);
    for (const id of layer.columnOrder.filter((c) => layer.columns[c]!.operationType === "last_value"))
      assert.equal(layer.columns[id]!.params?.sortField, "@timestamp");
    const sorting = v.attributes.state.visualization.sorting as { columnId: string; direction: string };
    assert.deepEqual(sorting, { columnId: layer.columnOrder[1], direction: "desc" });
  });

  it("show each host's last status and interval with the last time it was heard, longest silent first", () => {
    const v = visualisation("Host availability, longest silent first");
    const [[, layer]] = layersOf(v) as [
      [string, { columns: Record<string, LensColumn>; columnOrder: string[] }],
    ];
    const byField = (f: string) => Object.values(layer.columns).find((c) => c.sourceField === f)!;
    assert.equal(byField("telemetry.status").operationType, "last_value");
    assert.equal(byField("telemetry.status").filter?.query, 'event.dataset : "telemetry.status"');
    assert.equal(byField("telemetry.interval.ms").operationType, "last_value");
    assert.equal(byField("@timestamp").operationType, "max");
    assert.equal(byField("@timestamp").filter, undefined, "last seen counts every message, not only status");
    const sorting = v.attributes.state.visualization.sorting as { columnId: string; direction: string };
    assert.equal(layer.columns[sorting.columnId]!.sourceField, "@timestamp");
    assert.equal(sorting.direction, "asc");
  });

  it("list hosts that announced going offline", () => {
    const v = visualisation("Offline messages");
    assert.equal(v.attributes.state.query.query, 'telemetry.status : "offline"');
    assert.deepEqual(
      columns(v).map((c) => `${c.operationType} ${c.sourceField}`),
      ["terms host.name", "max @timestamp"],
    );
  });

  it("show disk used per host and mount point, the fullest reading of each bucket, 0 to 100 %", () => {
    const v = visualisation("Disk used per host and mount");
    assert.equal(v.attributes.visualizationType, "lnsXY");
    const [split] = columns(v).filter((c) => c.operationType === "terms");
    assert.deepEqual(split?.params?.secondaryFields, ["system.filesystem.mount_point"]);
    assert.deepEqual(
      columns(v).map((c) => `${c.operationType} ${c.sourceField}`),
      ["date_histogram @timestamp", "terms host.name", "max system.filesystem.used.pct"],
    );
    assert.deepEqual(v.attributes.state.visualization.yLeftExtent, {
      mode: "custom",
      lowerBound: 0,
      upperBound: 1,
    });
  });

  it("show network bytes per second in and out per host and interface, from the period fields", () => {
    const v = visualisation("Network traffic per host and interface");
    const [split] = columns(v).filter((c) => c.operationType === "terms");
    assert.deepEqual(split?.params?.secondaryFields, ["system.network.name"]);
    const rates = columns(v).filter((c) => !c.isBucketed);
    assert.deepEqual(
      rates.map((c) => `${c.label}: ${c.operationType} ${c.sourceField} per ${c.timeScale}`),
      ["In: sum system.network.period.in.bytes per s", "Out: sum system.network.period.out.bytes per s"],
    );
  });

  it("offer a host filter control on host.name", () => {
    assert.deepEqual(
      controlsOf(dashboard).map((c) => `${c.type} ${c.fieldName}`),
      ["optionsListControl host.name"],
    );
    assert.deepEqual(fields.get("host.name"), new Set(["keyword"]));
  });
});
