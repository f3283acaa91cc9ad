/**
 * Why a message is refused: a closed set. Counters are labelled with it and dead letters carry it as
 * `error.type`, so no input can create a new label or a new field value (a free-text reason such as
 * a topic's metric name grew the ingest's /metrics without bound). The detail goes in the
 * dead letter's `error.message`.
 */
export const REJECTION_REASONS = {
  bad_topic: "the topic is not telemetry/v2/<host>/<metric>, or its host level is not a host name",
  retired_version:
    "the topic is telemetry/v1/…, the contract's previous version: the agent on that host needs upgrading",
  oversized: "the payload is larger than the contract allows",
  unknown_metric: "the topic's last level is neither a metric the contract knows nor status",
  not_json: "the payload is not JSON",
  duplicate_key: "an object in the payload has the same key twice",
  unknown_field: "the payload has a field the contract does not define",
  bad_timestamp: "@timestamp is not a real date in ISO 8601 UTC with milliseconds",
  timestamp_too_old: "@timestamp is further in the past than any agent replays",
  timestamp_in_future: "@timestamp is further ahead than the clock skew the contract allows",
  integer_out_of_range: "an integer field is outside the range the contract allows",
  schema: "a field has the wrong type, is missing, or is out of its range",
  spoofed: "the payload's host differs from the topic's host",
  duplicate_entity: "two entities of a per-entity sample (filesystems, interfaces, cores) have the same key",
  retained_sample: "a sample was published retained: a stale value every new subscriber would take for fresh",
  elasticsearch_rejected: "Elasticsearch refused the document",
} as const;

export type RejectionReason = keyof typeof REJECTION_REASONS;

/**
 * How far behind now a message's @timestamp may be. The agent's offline buffer replays at most its
 * bound of messages (10,000 by default: about 7 hours at the default 10 s interval and four
 * metrics, about 2.8 days at 60 s), oldest first; 7 days covers every buffer an operator would set.
 */
export const MAX_MESSAGE_AGE_MS = 7 * 24 * 3600_000;
/** How far ahead of the receiver's clock a message's @timestamp may be: NTP-less clock skew. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
