import type { Static } from "@sinclair/typebox";
import { EVENT_MODULE, type Agent, type Host } from "./envelope.ts";
import { ENTITY_KEY } from "./fields.ts";
import { METRIC_FIELDS, type MetricFields, type MetricName, type Sample, type SampleOf } from "./metrics.ts";
import type { StatusMessage } from "./status.ts";
import { sampleTopic, statusTopic } from "./topics.ts";

/**
 * Builders for every message on the wire. Nobody assembles an envelope by hand: the agent, the
 * simulator and the benches call these, so a change to the envelope is a change here, and a field
 * added to a metric's schema fails to compile wherever that metric's fields are built.
 */

/** Who publishes: the host the readings are about, the program that took them, and how often. */
export interface Origin {
  host: Static<typeof Host>;
  agent: Static<typeof Agent>;
  /** The sampling interval in ms: each sample's `metricset.period`. */
  periodMs: number;
}

/** A message ready for MQTT: topic and JSON payload (QoS 1; `retain` only for statuses). */
export interface WireMessage {
  topic: string;
  payload: Buffer;
  retain?: boolean;
}

const iso = (at: number | Date) => new Date(at).toISOString();

/** One sample of metric M, stamped `at` (the moment of sampling). */
export function sample<M extends MetricName>(
  metric: M,
  origin: Origin,
  fields: MetricFields<M>,
  at: number | Date = Date.now(),
): SampleOf<M> {
  return {
    "@timestamp": iso(at),
    host: origin.host,
    agent: origin.agent,
    event: { module: EVENT_MODULE, dataset: `telemetry.${metric}` },
    metricset: { name: metric, period: origin.periodMs },
    system: { [metric]: fields },
  } as SampleOf<M>;
}

/** A host's status: "online" when it connects, "offline" on a clean stop and in its Last Will. */
export function status(
  origin: Origin,
  telemetry: StatusMessage["telemetry"],
  at: number | Date = Date.now(),
): StatusMessage {
  return {
    "@timestamp": iso(at),
    host: origin.host,
    agent: origin.agent,
    event: { module: EVENT_MODULE, dataset: "telemetry.status" },
    telemetry,
  };
}

/** A sample on its topic. */
export function sampleMessage<M extends MetricName>(
  metric: M,
  origin: Origin,
  fields: MetricFields<M>,
  at?: number | Date,
): WireMessage {
  return {
    topic: sampleTopic(origin.host.name, metric),
    payload: Buffer.from(JSON.stringify(sample(metric, origin, fields, at))),
  };
}

/** A status on its retained topic. */
export function statusWireMessage(message: StatusMessage): WireMessage {
  return {
    topic: statusTopic(message.host.name),
    payload: Buffer.from(JSON.stringify(message)),
    retain: true,
  };
}

/** The field naming each entity of a per-entity metric, or undefined for a metric with one value per host. */
export function entityKeyOf(metric: MetricName): string | undefined {
  const key = (METRIC_FIELDS[metric] as unknown as Record<string, unknown>)[ENTITY_KEY];
  return typeof key === "string" ? key : undefined;
}

/** One entity of a per-entity sample as a document of its own: the envelope around that entity. */
export interface EntityDocument {
  /** The entity's identity within its host (the value of its key field). */
  entity: string;
  document: Record<string, unknown>;
}

/**
 * A per-entity sample split into one document per entity, each with the sample's envelope and
 * `system.<metric>` holding that entity alone; undefined for a metric with one value per host.
 */
export function entityDocuments(metric: MetricName, message: Sample): EntityDocument[] | undefined {
  const key = entityKeyOf(metric);
  if (key === undefined) return undefined;
  const { system, ...envelope } = message as unknown as {
    system: Record<string, Array<Record<string, unknown>>>;
  };
  return (system[metric] ?? []).map((entity) => ({
    entity: String(entity[key]),
    document: { ...envelope, system: { [metric]: entity } },
  }));
}
