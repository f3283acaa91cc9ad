import type { Static } from "@sinclair/typebox";
import { EVENT_MODULE, type Agent, type Host } from "./envelope.ts";
import { entityKeyOf, type MetricFields, type MetricName, type Sample, type SampleOf } from "./metrics.ts";
import { MAX_PAYLOAD_BYTES } from "./validate.ts";
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
  /** How many Elasticsearch documents the ingest makes of it: one per entity, else one. */
  documents: number;
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
    host: hostOf(metric, origin, fields),
    agent: origin.agent,
    event: { module: EVENT_MODULE, dataset: `telemetry.${metric}` },
    metricset: { name: metric, period: origin.periodMs },
    system: { [metric]: fields },
  } as unknown as SampleOf<M>;
}

/**
 * The sample's `host`: the origin's, plus on cpu samples ECS `host.cpu.usage`, a copy of
 * `system.cpu.total.norm.pct` as Metricbeat's cpu metricset makes it (beats
 * metricbeat/module/system/cpu/cpu.go, `Fetch`: total.norm.pct → host.cpu.usage).
 */
function hostOf<M extends MetricName>(metric: M, origin: Origin, fields: MetricFields<M>) {
  if (metric !== "cpu") return origin.host;
  return { ...origin.host, cpu: { usage: (fields as MetricFields<"cpu">).total.norm.pct } };
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
    documents: Array.isArray(fields) && entityKeyOf(metric) !== undefined ? fields.length : 1,
  };
}

/**
 * A sample as the messages that carry it: one, or for a per-entity metric as many as keep each
 * payload within MAX_PAYLOAD_BYTES (a 96-core host's cores do not fit one), each holding a run of
 * the entities under the same @timestamp. Every entity is its own document either way, so the
 * split changes nothing in Elasticsearch.
 */
export function sampleMessages<M extends MetricName>(
  metric: M,
  origin: Origin,
  fields: MetricFields<M>,
  at: number | Date = Date.now(),
): WireMessage[] {
  const whole = sampleMessage(metric, origin, fields, at);
  if (
    whole.payload.byteLength <= MAX_PAYLOAD_BYTES ||
    !Array.isArray(fields) ||
    entityKeyOf(metric) === undefined
  )
    return [whole];
  const entities = fields as unknown[];
  const overhead = whole.payload.byteLength - Buffer.byteLength(JSON.stringify(entities));
  const runs: unknown[][] = [];
  let run: unknown[] = [];
  let size = overhead + 2;
  for (const entity of entities) {
    const bytes = Buffer.byteLength(JSON.stringify(entity)) + 1;
    // A lone entity over the limit still goes alone: the publisher refuses it, with a log line.
    if (run.length > 0 && size + bytes > MAX_PAYLOAD_BYTES) {
      runs.push(run);
      run = [];
      size = overhead + 2;
    }
    run.push(entity);
    size += bytes;
  }
  runs.push(run);
  return runs.map((entitiesOfRun) => sampleMessage(metric, origin, entitiesOfRun as MetricFields<M>, at));
}

/** A status on its retained topic. */
export function statusWireMessage(message: StatusMessage): WireMessage {
  return {
    topic: statusTopic(message.host.name),
    payload: Buffer.from(JSON.stringify(message)),
    retain: true,
    documents: 1,
  };
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
