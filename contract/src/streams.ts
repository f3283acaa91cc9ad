import type { MetricName } from "./metrics.ts";
import type { STATUS_LEVEL } from "./topics.ts";

/**
 * The Elasticsearch data streams telemetry lands in, named by the data stream scheme
 * `<type>-<dataset>-<namespace>`:
 *
 *   metrics-telemetry.<metric>-<namespace>   one per metric, and one for status messages
 *   logs-telemetry.deadletter-<namespace>    messages the ingest could not accept, with the reason
 *
 * The ingest writes them and installs their index templates; live and Kibana read them. Every
 * program takes these names from here; none derives one name from another by splitting it.
 */

/** What a telemetry data stream holds: the samples of one metric, or the hosts' statuses. */
export type StreamKind = MetricName | typeof STATUS_LEVEL;

/** The ECS `event.dataset` of a dead letter. */
export const DEAD_LETTER_DATASET = "telemetry.deadletter";

/** The ECS `event.dataset` of a message of `kind`, which also names its data stream. */
export function datasetFor(kind: StreamKind): string {
  return `telemetry.${kind}`;
}

export function dataStreamFor(kind: StreamKind, namespace: string): string {
  return `metrics-${datasetFor(kind)}-${namespace}`;
}

export function deadLetterStreamFor(namespace: string): string {
  return `logs-${DEAD_LETTER_DATASET}-${namespace}`;
}

/**
 * Every metric and status data stream of `namespace` ("*" for all namespaces), and none of the
 * dead letters: what a dashboard or a search over samples spans.
 */
export function telemetryStreamsPattern(namespace: string): string {
  return `metrics-telemetry.*-${namespace}`;
}

/** The index template that maps the data stream of `kind` in `namespace`. */
export function indexTemplateFor(kind: StreamKind, namespace: string): string {
  return `telemetry-${kind}-${namespace}`;
}

export function deadLetterTemplateFor(namespace: string): string {
  return `telemetry-deadletter-${namespace}`;
}
