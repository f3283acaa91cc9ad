import { hash } from "node:crypto";
import {
  DEAD_LETTER_DATASET,
  EVENT_MODULE,
  STATUS_LEVEL,
  dataStreamFor,
  deadLetterStreamFor,
  entityDocuments,
  sampleTopic,
  statusTopic,
  type Decoded,
  type RejectionReason,
} from "@cluster-telemetry/contract";
import { DEAD_LETTER_TEXT_LIMIT } from "./setup/index-templates.ts";

/**
 * One document on its way to Elasticsearch: where it goes, its idempotent id, the MQTT topic it
 * came from, and its body as JSON text: the validated message with `event.ingested` added (the
 * schema allows nothing else extra). The topic travels with the document so that one
 * Elasticsearch refuses is dead-lettered under the topic it came from.
 */
export interface IndexedDocument {
  index: string;
  id: string;
  topic: string;
  source: string;
}

/** How much of a rejected payload the dead letter keeps. */
export const DEAD_LETTER_PAYLOAD_LIMIT = 2048;

const cut = (text: string, limit: number) => (text.length > limit ? `${text.slice(0, limit)}…` : text);

// One-shot hashing (no Hash object per message).
const digest = (...parts: string[]) => hash("sha1", parts.join("\u0000"), "base64url");

/**
 * A sample's id is its identity: host, metric and moment of sampling. A redelivered message (the
 * broker resends what was not acknowledged) gets the same id, and `create` answers 409 instead of
 * indexing it twice. A per-entity sample (filesystems, interfaces) becomes one document per entity,
 * each identified by its entity too, so every value keeps the entity it belongs to.
 */
export function sampleDocuments(
  decoded: Extract<Decoded, { ok: true }>,
  namespace: string,
  receivedAt: number = Date.now(),
): IndexedDocument[] {
  const timestamp = decoded.message["@timestamp"];
  const index = dataStreamFor(decoded.kind, namespace);
  const ingested =
    decoded.kind === STATUS_LEVEL ? statusIngestedAt(receivedAt) : new Date(receivedAt).toISOString();
  // The topic it was decoded from: decodeMessage accepts exactly <root>/<host>/<kind>.
  const topic =
    decoded.kind === STATUS_LEVEL ? statusTopic(decoded.host) : sampleTopic(decoded.host, decoded.kind);
  const entities = decoded.kind === STATUS_LEVEL ? undefined : entityDocuments(decoded.kind, decoded.message);
  if (!entities)
    return [
      {
        index,
        id: digest(decoded.host, decoded.kind, timestamp),
        topic,
        source: textWithIngested(decoded.text, ingested),
      },
    ];
  return entities.map(({ entity, document }) => {
    const { event } = document as { event: Record<string, unknown> };
    return {
      index,
      id: digest(decoded.host, decoded.kind, timestamp, entity),
      topic,
      source: JSON.stringify({ ...document, event: { ...event, ingested } }),
    };
  });
}

/*
 * Every document carries the moment the ingest received it (ECS `event.ingested`), as Fleet's
 * final pipeline stamps it: how late data arrives (an agent replaying its buffer) is measurable.
 * It is also what orders a host's statuses: a Last Will is stamped when the agent connected, before
 * the "online" it sent after connecting, and is delivered only when the agent dies. A redelivered
 * message keeps its id, so its later `event.ingested` never makes a second document.
 *
 * Stamped here, not by an ingest pipeline's `set` processor: that processor's module is not on
 * Maven Central, so the test Elasticsearch could not run it (test/README.md).
 */

function statusIngestedAt(receivedAt: number): string {
  // Strictly increasing within this process: two statuses received in the same millisecond (a
  // host's online and its Will, back to back) still sort in the order they arrived. Statuses only:
  // thousands of samples a second would push a +1 ms sequence ahead of the clock.
  lastIngested = Math.max(receivedAt, lastIngested + 1);
  return new Date(lastIngested).toISOString();
}
let lastIngested = 0;

/**
 * The message's text with `"ingested"` inserted as the first key of its top-level `event`, without
 * parsing or serializing it again: parsing and serializing cost 6 to 8 µs of the ingest's ~105 µs
 * per message, the insertion 0.3 µs (ingest/README.md). The text is JSON.stringify's compact form
 * of a message the schema closed: outside a string every `"` is unescaped and inside one escaped, so
 * `,"event":{` can only be the top-level key (no other object of the schema has an `event`).
 */
export function textWithIngested(text: string, ingested: string): string {
  const at = text.startsWith('{"event":{') ? 1 : text.indexOf(',"event":{') + 1;
  if (at === 0) throw new Error(`a validated message without a top-level event: ${text.slice(0, 200)}`);
  const open = at + '"event":{'.length;
  const rest = text.slice(open);
  return `${text.slice(0, open)}"ingested":"${ingested}"${rest.startsWith("}") ? "" : ","}${rest}`;
}

/** A message the ingest cannot accept, kept with its reason (ECS: error.message, event.original). */
export function deadLetterDocument(
  topic: string,
  payload: string,
  reason: string,
  namespace: string,
  host: string | undefined,
  errorType: RejectionReason,
): IndexedDocument {
  // Refused on arrival: the moment it was received is the moment it became a dead letter.
  const now = new Date().toISOString();
  return {
    index: deadLetterStreamFor(namespace),
    // The same bad message redelivered is still one dead letter.
    id: digest(topic, payload, reason),
    topic,
    source: JSON.stringify({
      "@timestamp": now,
      ...(host ? { host: { name: host } } : {}),
      event: {
        module: EVENT_MODULE,
        dataset: DEAD_LETTER_DATASET,
        kind: "pipeline_error",
        original: cut(payload, DEAD_LETTER_PAYLOAD_LIMIT),
        ingested: now,
      },
      error: { type: errorType, message: cut(reason, DEAD_LETTER_TEXT_LIMIT) },
      mqtt: { topic: cut(topic, DEAD_LETTER_TEXT_LIMIT) },
    }),
  };
}
