import type { Client } from "@elastic/elasticsearch";
import { deadLetterStreamFor, telemetryStreamsPattern } from "@cluster-telemetry/contract";

export interface StreamCount {
  name: string;
  count: number;
}

/**
 * The telemetry data streams that exist in `namespace`, with their document counts, by name.
 * Resolved through `_resolve/index` (in every Elasticsearch, unlike `_data_stream`), so a stream
 * this host never wrote (temperature on a VM, dead letters when there are none) is not listed.
 */
export async function telemetryStreams(es: Client, namespace: string): Promise<StreamCount[]> {
  const resolved = await es.indices.resolveIndex({
    name: [telemetryStreamsPattern(namespace), deadLetterStreamFor(namespace)],
    expand_wildcards: "open",
    ignore_unavailable: true,
  });
  const names = resolved.data_streams.map((d) => d.name).sort();
  return Promise.all(names.map(async (name) => ({ name, count: (await es.count({ index: name })).count })));
}
