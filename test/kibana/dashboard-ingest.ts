import type { SharedServices } from "@cluster-telemetry/dev-stack";
import { uniqueName } from "@cluster-telemetry/dev-stack";
import { spawnIngest, waitFor, type IngestProcess } from "../ingest/fleet.ts";

/**
 * A running ingest writing into its own namespace, for the dashboard's tests: what they query went
 * the real way, MQTT → telemetry-ingest → the data streams. Resolves once it is subscribed.
 */
export async function startDashboardIngest(
  services: SharedServices,
  mqttUrl: string,
  namespace: string,
  batchSize: number,
): Promise<IngestProcess> {
  const ingest = spawnIngest([], {
    MQTT_URL: mqttUrl,
    REDIS_URL: services.redisUrl,
    ELASTICSEARCH_URL: services.elasticsearchUrl,
    INGEST_NAMESPACE: namespace,
    MQTT_CLIENT_ID: uniqueName("ingest-"),
    INGEST_REDIS_PREFIX: namespace,
    INGEST_BATCH_SIZE: String(batchSize),
    INGEST_FLUSH_INTERVAL: "100ms",
  });
  await waitFor("the ingest to subscribe", () => ingest.output().includes('"event":"broker_connected"'));
  return ingest;
}
