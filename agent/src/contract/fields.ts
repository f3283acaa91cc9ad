import { Type, type TSchema, type NumberOptions } from "@sinclair/typebox";

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
/** A non-negative count of bytes. */
export const Bytes = (options: NumberOptions = {}) =>
  esTyped(Type.Integer({ minimum: 0, ...options }), "long");
/** Degrees Celsius from a CPU or SoC sensor; the range excludes the 0 and -1 that broken sensors report. */
export const Celsius = (options: NumberOptions = {}) =>
  esTyped(Type.Number({ exclusiveMinimum: -60, maximum: 150, not: { enum: [0, -1] }, ...options }), "float");
export const Keyword = (options: { maxLength?: number; minLength?: number; pattern?: string } = {}) =>
  esTyped(Type.String({ maxLength: 1024, ...options }), "keyword");
export const Timestamp = () =>
  esTyped(
    Type.String({
      // ISO 8601 UTC with milliseconds, as the agent stamps it.
      pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$",
      description: "moment of sampling, ISO 8601 UTC with milliseconds",
    }),
    "date",
  );
