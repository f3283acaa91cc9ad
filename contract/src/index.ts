/**
 * The message contract between telemetry-agent and telemetry-ingest: topics, payload schemas
 * (JSON Schema, built with TypeBox, each field carrying its Elasticsearch type), validation, and
 * the names of the data streams the messages land in.
 * Both programs import this module and nothing else of each other.
 */
export * from "./topics.ts";
export * from "./streams.ts";
export * from "./fields.ts";
export * from "./envelope.ts";
export * from "./metrics.ts";
export * from "./status.ts";
export * from "./rejection.ts";
export * from "./validate.ts";
export * from "./builders.ts";
