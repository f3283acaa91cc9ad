import { hash } from "node:crypto";
import type { Decoded } from "../../agent/src/contract/index.ts";
import { dataStreamName, deadLetterDataStream } from "./setup/index-templates.ts";

/**
 * One document on its way to Elasticsearch: where it goes, its idempotent id, and its body as JSON
 * text. A valid sample's body is its MQTT payload as received (the schema allows nothing extra), so
 * the payload is parsed once, to validate it, and never serialized again.
 */
export interface IndexedDocument {
  index: string;
  id: string;
  source: string;
}

/** How much of a rejected payload the dead letter keeps. */
export const DEAD_LETTER_PAYLOAD_LIMIT = 2048;

// One-shot hashing (no Hash object per message).
const digest = (...parts: string[]) => hash("sha1", parts.join("\u0000"), "base64url");

/**
 * A sample's id is its identity: host, metric and moment of sampling. A redelivered message (the
 * broker resends what was not acknowledged) gets the same id, and `create` answers 409 instead of
 * indexing it twice.
 */
export function sampleDocument(decoded: Extract<Decoded, { ok: true }>, namespace: string): IndexedDocument {
  const timestamp = decoded.message["@timestamp"];
  return {
    index: dataStreamName(decoded.kind, namespace),
    id: digest(decoded.host, decoded.kind, timestamp),
    source: decoded.text,
  };
}

/** A message the ingest cannot accept, kept with its reason (ECS: error.message, event.original). */
export function deadLetterDocument(
  topic: string,
  payload: string,
  reason: string,
  namespace: string,
  host?: string,
  errorType = "invalid_message",
): IndexedDocument {
  const original =
    payload.length > DEAD_LETTER_PAYLOAD_LIMIT ? `${payload.slice(0, DEAD_LETTER_PAYLOAD_LIMIT)}…` : payload;
  return {
    index: deadLetterDataStream(namespace),
    // The same bad message redelivered is still one dead letter.
    id: digest(topic, payload, reason),
    source: JSON.stringify({
      "@timestamp": new Date().toISOString(),
      ...(host ? { host: { name: host } } : {}),
      event: { dataset: "telemetry.deadletter", kind: "pipeline_error", original },
      error: { type: errorType, message: reason },
      mqtt: { topic },
    }),
  };
}
