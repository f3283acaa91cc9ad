import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Every metric the ingest exports at /metrics, named in one place with fixed labels. */
export function createMetrics() {
  const registry = new Registry();
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name: `telemetry_ingest_${name}`, help, labelNames, registers: [registry] });
  return {
    registry,
    received: counter("messages_received_total", "MQTT messages received"),
    acked: counter("messages_acked_total", "MQTT messages acknowledged after they were durable in Redis"),
    // `reason` takes only the contract's REJECTION_REASONS: a closed set whatever the input.
    invalid: counter("messages_invalid_total", "Messages that failed validation, by reason", ["reason"]),
    queued: counter("documents_queued_total", "Documents moved from staging into bulk jobs"),
    indexed: counter("documents_indexed_total", "Documents Elasticsearch accepted"),
    duplicates: counter("documents_duplicate_total", "Documents already indexed (409), counted as done"),
    deadLettered: counter("documents_dead_lettered_total", "Documents written to the dead-letter stream"),
    deadLettersDropped: counter(
      "dead_letters_dropped_total",
      "Dead letters Elasticsearch refused in turn: logged, not stored",
    ),
    retries: counter("bulk_item_retries_total", "Bulk items sent again after 429, 5xx or a transport error"),
    queueDepth: new Gauge({
      name: "telemetry_ingest_queue_depth",
      help: "Documents staged or queued, not yet indexed",
      registers: [registry],
    }),
    intakePaused: new Gauge({
      name: "telemetry_ingest_intake_paused",
      help: "1 while the intake holds back (high-water mark)",
      registers: [registry],
    }),
    bulkDocuments: new Histogram({
      name: "telemetry_ingest_bulk_documents",
      help: "Documents in one bulk request",
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2000],
      registers: [registry],
    }),
    bulkLatency: new Histogram({
      name: "telemetry_ingest_bulk_duration_seconds",
      help: "Duration of one bulk request",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

export type IngestMetrics = ReturnType<typeof createMetrics>;
