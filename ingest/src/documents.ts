import { hash } from "node:crypto";
import {
  DEAD_LETTER_DATASET,
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
 * came from, and its body as JSON text. A valid sample's body is its MQTT payload as received (the
 * schema allows nothing extra), so the payload is parsed once, to validate it, and never serialized
 * again. The topic travels with the document so that one Elasticsearch refuses is dead-lettered
 * under the topic it came from.
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
  if (decoded.kind === STATUS_LEVEL)
    return [
      {
        index,
        id: digest(decoded.host, decoded.kind, timestamp),
        topic: statusTopic(decoded.host),
        source: withIngested(decoded.message, receivedAt),
      },
    ];
  // The topic it was decoded from: decodeMessage accepts exactly <root>/<host>/<kind>.
  const topic = sampleTopic(decoded.host, decoded.kind);
  const entities = entityDocuments(decoded.kind, decoded.message);
  if (!entities)
    return [{ index, id: digest(decoded.host, decoded.kind, timestamp), topic, source: decoded.text }];
  return entities.map(({ entity, document }) => ({
    index,
    id: digest(decoded.host, decoded.kind, timestamp, entity),
    topic,
    source: JSON.stringify(document),
  }));
}

/**
 * A status carries the moment the ingest received it (ECS `event.ingested`), which is what orders
 * a host's statuses: a Last Will is stamped when the agent connected, before the "online" it sent
 * after connecting, and is delivered only when the agent dies. A redelivered status keeps its id,
 * so its later `event.ingested` never makes a second document.
 */
function withIngested(message: Extract<Decoded, { ok: true }>["message"], receivedAt: number): string {
  // Strictly increasing within this process: two statuses received in the same millisecond (a
  // host's online and its Will, back to back) still sort in the order they arrived.
  lastIngested = Math.max(receivedAt, lastIngested + 1);
  return JSON.stringify({
    ...message,
    event: { ...message.event, ingested: new Date(lastIngested).toISOString() },
  });
}
let lastIngested = 0;

/** A message the ingest cannot accept, kept with its reason (ECS: error.message, event.original). */
export function deadLetterDocument(
  topic: string,
  payload: string,
  reason: string,
  namespace: string,
  host: string | undefined,
  errorType: RejectionReason,
): IndexedDocument {
  return {
    index: deadLetterStreamFor(namespace),
    // The same bad message redelivered is still one dead letter.
    id: digest(topic, payload, reason),
    topic,
    source: JSON.stringify({
      "@timestamp": new Date().toISOString(),
      ...(host ? { host: { name: host } } : {}),
      event: {
        dataset: DEAD_LETTER_DATASET,
        kind: "pipeline_error",
        original: cut(payload, DEAD_LETTER_PAYLOAD_LIMIT),
      },
      error: { type: errorType, message: cut(reason, DEAD_LETTER_TEXT_LIMIT) },
      mqtt: { topic: cut(topic, DEAD_LETTER_TEXT_LIMIT) },
    }),
  };
}
