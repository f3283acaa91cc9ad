/**
 * The shared services of this test run, as `npm test` (test/run.ts) hands them over. A test that
 * must stop or kill a service starts a private one instead (MosquittoService.start() and so on).
 */
export interface SharedServices {
  mqttUrl: string;
  redisUrl: string;
  elasticsearchUrl: string;
}

export function sharedServices(): SharedServices {
  const { MQTT_URL, REDIS_URL, ELASTICSEARCH_URL } = process.env;
  if (!MQTT_URL || !REDIS_URL || !ELASTICSEARCH_URL) {
    throw new Error(
      'MQTT_URL, REDIS_URL and ELASTICSEARCH_URL are not set: run tests with `npm test`, or after `eval "$(npm run --silent services -- up)"`',
    );
  }
  return { mqttUrl: MQTT_URL, redisUrl: REDIS_URL, elasticsearchUrl: ELASTICSEARCH_URL };
}

/** A name no other test (or earlier run) uses: for topics, queues, data stream namespaces. */
export function uniqueName(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`.toLowerCase();
}
