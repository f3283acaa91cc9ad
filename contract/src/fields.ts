import { Type, type TObject, type TSchema, type NumberOptions } from "@sinclair/typebox";

/**
 * Schema building blocks that also carry the Elasticsearch field type, so the ingest derives its
 * index templates from the same schema the agent publishes against: adding a metric is adding a
 * schema entry, nothing else.
 */
export type EsFieldType = "keyword" | "date" | "float" | "double" | "long" | "integer" | "short" | "boolean";
export const ES_TYPE = "x-es-type";
/**
 * How a numeric leaf behaves over time, as the Elastic `system` integration declares its fields
 * (`metric_type`): a gauge is a level read at each sample (a fraction, bytes in use, a load), a
 * counter only grows until its process restarts. Mapped as `time_series_metric`.
 */
export type EsMetricType = "gauge" | "counter";
export const ES_METRIC = "x-es-metric";
/**
 * A field that tells one time series from another (the host, an entity's key): mapped as
 * `time_series_dimension`, like the integration's `dimension: true`.
 */
export const ES_DIMENSION = "x-es-dimension";

export function esTyped<T extends TSchema>(schema: T, esType: EsFieldType, metric?: EsMetricType): T {
  return { ...schema, [ES_TYPE]: esType, ...(metric ? { [ES_METRIC]: metric } : {}) } as T;
}

/** The unit of a numeric leaf, for the README's field reference. */
export const UNIT = "x-unit";

function withUnit<T extends TSchema>(schema: T, unit: string): T {
  return { ...schema, [UNIT]: unit } as T;
}

/** Marks a keyword leaf as a time-series dimension. */
export function dimension<T extends TSchema>(schema: T): T {
  return { ...schema, [ES_DIMENSION]: true } as T;
}

/**
 * A fraction from 0 to 1 (Metricbeat's `.pct` convention: 0.25 is 25 %). Metricbeat maps it as
 * `scaled_float` with a scaling factor of 1000; it is `float` here because the Elasticsearch the
 * tests run lacks the module that provides `scaled_float` (test/README.md).
 */
export const Fraction = (options: NumberOptions = {}) =>
  withUnit(esTyped(Type.Number({ minimum: 0, maximum: 1, ...options }), "float", "gauge"), "fraction 0–1");
/** The most logical cores a host may report (a `cores` count, the bound of a sum over cores). */
export const MAX_CORES = 65_536;
/**
 * CPU time as a fraction of one core, summed over all cores: 0 to the core count (Metricbeat's
 * non-normalised `system.cpu.*.pct`: 1.5 on a 4-core host is one and a half cores busy). The same
 * Elasticsearch type as a Fraction, so a `.pct` and its `.norm.pct` aggregate alike.
 */
export const CoreFraction = (options: NumberOptions = {}) =>
  withUnit(Fraction({ maximum: MAX_CORES, ...options }), "cores");
/**
 * The largest integer the contract accepts: Elasticsearch's `long` holds up to 2^63 − 1, but a JSON
 * number past 2^53 − 1 is no longer exact once parsed, so the bound is the exact one.
 */
export const MAX_INTEGER = Number.MAX_SAFE_INTEGER;
/**
 * A non-negative integer mapped as `long` (counts, milliseconds); `metric` says whether it is a
 * gauge or a counter when it is a measurement at all (a sampling period is neither).
 */
export const Long = (options: NumberOptions = {}, metric?: EsMetricType) =>
  esTyped(Type.Integer({ minimum: 0, maximum: MAX_INTEGER, ...options }), "long", metric);
/** A non-negative amount of bytes at the moment of sampling. */
export const Bytes = (options: NumberOptions = {}) => withUnit(Long(options, "gauge"), "bytes");
/** A duration in milliseconds (a sampling period), neither gauge nor counter. */
export const Millis = (options: NumberOptions = {}) => withUnit(Long(options), "ms");
/** Degrees Celsius from a CPU or SoC sensor; the range excludes the 0 and -1 that broken sensors report. */
export const Celsius = (options: NumberOptions = {}) =>
  withUnit(
    esTyped(
      Type.Number({ exclusiveMinimum: -60, maximum: 150, not: { enum: [0, -1] }, ...options }),
      "float",
      "gauge",
    ),
    "°C",
  );
export const Keyword = (
  options: { maxLength?: number; minLength?: number; pattern?: string; description?: string } = {},
) => esTyped(Type.String({ maxLength: 1024, ...options }), "keyword");
export const Timestamp = () =>
  esTyped(
    Type.String({
      // ISO 8601 UTC with milliseconds, as the agent stamps it; "date-time" also refuses dates that
      // do not exist (month 13, 30 February), which Elasticsearch would refuse with a 400.
      pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$",
      format: "date-time",
      description: "moment of sampling, ISO 8601 UTC with milliseconds",
    }),
    "date",
  );

/** Marks a per-entity metric's list with the field that names each entity. */
export const ENTITY_KEY = "x-entity-key";

/**
 * A metric reported per entity (per filesystem, per network interface, per core): one message
 * carries every entity of the host, and the ingest indexes one document per entity, so an
 * aggregation always knows which value belongs to which entity (Elasticsearch keeps the values of a
 * multi-valued numeric field sorted, which loses that). `key` names the field that identifies an
 * entity within its host; it is part of each document's id, and a time-series dimension of the
 * metric's mapping (index-templates.ts), as the integration declares its entity keys.
 */
export function Entities<T extends TObject>(item: T, key: keyof T["properties"] & string, maxItems: number) {
  return Type.Array(item, { minItems: 1, maxItems, [ENTITY_KEY]: key });
}
