import { Type, type TObject, type TSchema, type NumberOptions } from "@sinclair/typebox";

/**
 * Schema building blocks that also carry the Elasticsearch field type, so the ingest derives its
 * index templates from the same schema the agent publishes against: adding a metric is adding a
 * schema entry, nothing else.
 */
export type EsFieldType = "keyword" | "date" | "float" | "double" | "long" | "integer" | "short" | "boolean";
export const ES_TYPE = "x-es-type";

export function esTyped<T extends TSchema>(schema: T, esType: EsFieldType): T {
  return { ...schema, [ES_TYPE]: esType } as T;
}

/** A fraction from 0 to 1 (Metricbeat's `.pct` convention: 0.25 is 25 %). */
export const Fraction = (options: NumberOptions = {}) =>
  esTyped(Type.Number({ minimum: 0, maximum: 1, ...options }), "float");
/** The most logical cores a host may report (a `cores` count, the bound of a sum over cores). */
export const MAX_CORES = 65_536;
/**
 * CPU time as a fraction of one core, summed over all cores: 0 to the core count (Metricbeat's
 * non-normalised `system.cpu.*.pct`: 1.5 on a 4-core host is one and a half cores busy). The same
 * Elasticsearch type as a Fraction, so a `.pct` and its `.norm.pct` aggregate alike.
 */
export const CoreFraction = (options: NumberOptions = {}) => Fraction({ maximum: MAX_CORES, ...options });
/**
 * The largest integer the contract accepts: Elasticsearch's `long` holds up to 2^63 − 1, but a JSON
 * number past 2^53 − 1 is no longer exact once parsed, so the bound is the exact one.
 */
export const MAX_INTEGER = Number.MAX_SAFE_INTEGER;
/** A non-negative integer mapped as `long` (counts, milliseconds). */
export const Long = (options: NumberOptions = {}) =>
  esTyped(Type.Integer({ minimum: 0, maximum: MAX_INTEGER, ...options }), "long");
/** A non-negative count of bytes. */
export const Bytes = (options: NumberOptions = {}) => Long(options);
/** Degrees Celsius from a CPU or SoC sensor; the range excludes the 0 and -1 that broken sensors report. */
export const Celsius = (options: NumberOptions = {}) =>
  esTyped(Type.Number({ exclusiveMinimum: -60, maximum: 150, not: { enum: [0, -1] }, ...options }), "float");
export const Keyword = (options: { maxLength?: number; minLength?: number; pattern?: string } = {}) =>
  esTyped(Type.String({ maxLength: 1024, ...options }), "keyword");
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
 * entity within its host; it is part of each document's id.
 */
export function Entities<T extends TObject>(item: T, key: keyof T["properties"] & string, maxItems: number) {
  return Type.Array(item, { minItems: 1, maxItems, [ENTITY_KEY]: key });
}
