import type { LensColumn, LensLayer, Visualisation } from "./saved-objects.ts";
import { layersOf, readSavedObjects, visualisationsOf } from "./saved-objects.ts";

/**
 * The Elasticsearch requests Lens makes for the dashboard's panels, built from the panels' own
 * definitions in the saved objects file, so a test of the request is a test of the panel.
 */
type Query = Record<string, unknown>;
type Aggs = Record<string, unknown>;

export function panel(title: string): Visualisation {
  const found = visualisationsOf(readSavedObjects().objects).find((v) => v.attributes.title === title);
  if (!found) throw new Error(`no panel titled "${title}"`);
  return found;
}

/** The KQL the panels use: `field : *` (exists) and `field : "value"` (term), joined by nothing else. */
export function kqlToQuery(kql: string): Query | undefined {
  if (kql.trim() === "") return undefined;
  const match = /^\s*(?:"([^"]+)"|([\w.@]+))\s*:\s*(\*|"([^"]*)")\s*$/.exec(kql);
  if (!match) throw new Error(`KQL beyond what this translation covers: ${kql}`);
  const field = (match[1] ?? match[2])!;
  return match[3] === "*" ? { exists: { field } } : { term: { [field]: match[4] } };
}

export function panelQuery(v: Visualisation): Query | undefined {
  return kqlToQuery(v.attributes.state.query.query);
}

function metricAgg(column: LensColumn): Aggs {
  const field = column.sourceField!;
  let agg: Aggs;
  switch (column.operationType) {
    case "average":
      agg = { avg: { field } };
      break;
    case "max":
      agg = { max: { field } };
      break;
    case "sum":
      agg = { sum: { field } };
      break;
    case "last_value": {
      const sortField = column.params?.sortField as string;
      // Lens runs "last value" as the newest document's field through top_hits of size 1.
      agg = {
        top_hits: { size: 1, sort: [{ [sortField]: { order: "desc" } }], _source: false, fields: [field] },
      };
      break;
    }
    default:
      throw new Error(`operation ${column.operationType} is not translated`);
  }
  const filter = column.filter ? kqlToQuery(column.filter.query) : undefined;
  return filter ? { filter, aggs: { value: agg } } : agg;
}

type AggResult = { value?: number | null; hits?: { hits: Array<{ fields?: Record<string, unknown[]> }> } };

function metricValue(column: LensColumn, result: AggResult & { value_as_string?: string }): unknown {
  const inner = (column.filter ? (result as unknown as { value: AggResult }).value : result) as AggResult;
  if (column.operationType === "last_value") return inner.hits?.hits[0]?.fields?.[column.sourceField!]?.[0];
  return inner.value ?? null;
}

function only(layer: LensLayer, operation: string): [string, LensColumn] {
  const found = layer.columnOrder.filter((id) => layer.columns[id]!.operationType === operation);
  if (found.length !== 1) throw new Error(`expected one ${operation} column, found ${found.length}`);
  return [found[0]!, layer.columns[found[0]!]!];
}

/**
 * The order of a terms split as Lens sends it: by the key (alphabetical), or by one of the layer's
 * metric columns, whose sub-aggregation carries the column's id (inside its filter, if it has one).
 */
function termsOrder(layer: LensLayer, split: LensColumn): Record<string, "asc" | "desc"> {
  const orderBy = split.params?.orderBy as { type: string; columnId?: string } | undefined;
  const direction = (split.params?.orderDirection as "asc" | "desc" | undefined) ?? "asc";
  if (!orderBy || orderBy.type === "alphabetical") return { _key: direction };
  if (orderBy.type !== "column") throw new Error(`terms order ${orderBy.type} is not translated`);
  const column = layer.columns[orderBy.columnId!]!;
  if (column.operationType === "last_value") throw new Error("Lens cannot rank terms by a last value");
  return { [column.filter ? `${orderBy.columnId}>value` : orderBy.columnId!]: direction };
}

/** A datatable panel: one terms row split, metric columns; rows keyed by column label, sorted as the table sorts. */
export function tableRequest(v: Visualisation) {
  const [, layer] = layersOf(v)[0]!;
  const [, rowSplit] = only(layer, "terms");
  const metrics = layer.columnOrder.filter((id) => !layer.columns[id]!.isBucketed);
  const aggs = {
    rows: {
      terms: {
        field: rowSplit.sourceField,
        size: rowSplit.params?.size as number,
        order: termsOrder(layer, rowSplit),
      },
      aggs: Object.fromEntries(metrics.map((id) => [id, metricAgg(layer.columns[id]!)])),
    },
  };
  const sorting = v.attributes.state.visualization.sorting as { columnId: string; direction: "asc" | "desc" };
  const read = (aggregations: Record<string, unknown>): Array<Record<string, unknown>> => {
    const buckets = (aggregations.rows as { buckets: Array<Record<string, unknown>> }).buckets;
    const rows = buckets.map((b) => ({
      [rowSplit.label]: b.key,
      ...Object.fromEntries(
        metrics.map((id) => [layer.columns[id]!.label, metricValue(layer.columns[id]!, b[id] as AggResult)]),
      ),
    }));
    const key = layer.columns[sorting.columnId]!.label;
    const sign = sorting.direction === "asc" ? 1 : -1;
    return rows.sort((x, y) => sign * ((x[key] as number) - (y[key] as number)));
  };
  return { query: panelQuery(v), aggs, read };
}

const TIME_UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const FIXED_INTERVAL_MS: Record<string, number> = {
  "30s": 30_000,
  "1m": 60_000,
  "5m": 300_000,
  "1h": 3_600_000,
};

/** A terms bucket of a line split, holding either the time buckets or the next field's split. */
interface SplitBucket {
  key: unknown;
  time?: { buckets: Array<Record<string, unknown>> };
  next?: { buckets: SplitBucket[] };
}

/**
 * The split of a line chart: a terms column on one field, or on several (`secondaryFields`),
 * which Lens sends as multi_terms and labels "first › second". multi_terms belongs to
 * Elasticsearch's analytics module, which the test cluster's build does not load; nested terms
 * (each sorted by key, as the panels sort) give the same series, so the test sends those.
 */
function splitAgg(split: LensColumn, inner: Aggs): Aggs {
  const fields = [split.sourceField!, ...((split.params?.secondaryFields as string[] | undefined) ?? [])];
  const size = split.params?.size as number;
  return fields.reduceRight<Aggs>(
    (aggs, field, i) => ({
      terms: { field, size, order: { _key: "asc" } },
      aggs: i === fields.length - 1 ? inner : { next: aggs },
    }),
    inner,
  );
}

/** The series of a (possibly nested) split: "first › second" → its time buckets. */
function seriesOf(
  buckets: SplitBucket[],
  prefix: string[] = [],
): Array<[string, Array<Record<string, unknown>>]> {
  return buckets.flatMap((b) => {
    const path = [...prefix, String(b.key)];
    return b.next ? seriesOf(b.next.buckets, path) : [[path.join(" › "), b.time!.buckets] as const];
  }) as Array<[string, Array<Record<string, unknown>>]>;
}

/**
 * A line chart split by host (or by host and an entity): terms → date_histogram → the metric.
 * Lens picks the histogram interval from the time range ("auto"); the caller fixes it so buckets
 * are known. With several metric columns, `metricLabel` picks one. A column with a time scale is
 * a rate: Lens divides each bucket's value by the bucket's length in that unit.
 */
export function lineChartRequest(v: Visualisation, fixedInterval: string, metricLabel?: string) {
  const [, layer] = layersOf(v).find(([, l]) => Object.values(l.columns).some((c) => c.sourceField))!;
  const [, time] = only(layer, "date_histogram");
  const [, split] = only(layer, "terms");
  const [metricId, metric] =
    metricLabel === undefined
      ? only(layer, metric0(layer))
      : (Object.entries(layer.columns).find(([, c]) => c.label === metricLabel) ??
        fail(`no column "${metricLabel}"`));
  const bucketMs = FIXED_INTERVAL_MS[fixedInterval] ?? fail(`interval ${fixedInterval} is not translated`);
  const scale = metric.timeScale ? bucketMs / TIME_UNIT_MS[metric.timeScale] : 1;
  const aggs = {
    lines: splitAgg(split, {
      time: {
        date_histogram: { field: time.sourceField, fixed_interval: fixedInterval, min_doc_count: 1 },
        aggs: { [metricId]: metricAgg(metric) },
      },
    }),
  };
  /** Line per split value: [bucket start, value] for each bucket that has one. */
  const read = (aggregations: Record<string, unknown>): Record<string, Array<[number, unknown]>> => {
    const scaled = (value: unknown) => (typeof value === "number" && scale !== 1 ? value / scale : value);
    return Object.fromEntries(
      seriesOf((aggregations.lines as { buckets: SplitBucket[] }).buckets).map(([name, buckets]) => [
        name,
        buckets
          .map(
            (b) =>
              [b.key as number, scaled(metricValue(metric, b[metricId] as AggResult))] as [number, unknown],
          )
          .filter(([, value]) => value !== null),
      ]),
    );
  };
  return { query: panelQuery(v), aggs, read, metricField: metric.sourceField! };
}

function fail(message: string): never {
  throw new Error(message);
}

function metric0(layer: LensLayer): string {
  return layer.columns[layer.columnOrder.find((id) => !layer.columns[id]!.isBucketed)!]!.operationType;
}

/** The numbers of the panel's reference lines (static values), e.g. a warning threshold. */
export function referenceLines(v: Visualisation): number[] {
  return layersOf(v)
    .flatMap(([, layer]) => Object.values(layer.columns))
    .filter((c) => c.operationType === "static_value")
    .map((c) => Number(c.params?.value));
}
