import type { Client } from "@elastic/elasticsearch";
import mqtt from "mqtt";
import { sampleTopic } from "@cluster-telemetry/contract";
import { sharedServices, uniqueName } from "@cluster-telemetry/dev-stack";
import { spawnProgram, waitFor, type ProgramProcess } from "@cluster-telemetry/dev-stack";

export { waitFor } from "@cluster-telemetry/dev-stack";
export type IngestProcess = ProgramProcess;

/** The real ingest as a child process (so tests can SIGKILL it), health port chosen freely. */
export function spawnIngest(args: string[], env: NodeJS.ProcessEnv): IngestProcess {
  return spawnProgram("ingest/src/main.ts", ["--http-port", "0", ...args], { LOG_LEVEL: "info", ...env });
}

/**
 * The real ingest on a broker of the test's own, with the run's Redis and Elasticsearch, writing to
 * `namespace` (also its Redis prefix); resolves once it has subscribed.
 */
export async function subscribedIngest(brokerUrl: string, namespace: string): Promise<IngestProcess> {
  const { redisUrl, elasticsearchUrl } = sharedServices();
  const ingest = spawnIngest([], {
    MQTT_URL: brokerUrl,
    REDIS_URL: redisUrl,
    ELASTICSEARCH_URL: elasticsearchUrl,
    INGEST_NAMESPACE: namespace,
    MQTT_CLIENT_ID: uniqueName("ingest-"),
    INGEST_REDIS_PREFIX: namespace,
    INGEST_FLUSH_INTERVAL: "200ms",
  });
  await waitFor("the ingest to subscribe", () => ingest.output().includes('"event":"broker_connected"'));
  return ingest;
}

/** The health port the ingest announced in its start-up log line, once it has. */
export function httpPortOf(ingest: IngestProcess): string | undefined {
  return /"httpPort":(\d+)/.exec(ingest.output())?.[1];
}

/** The ingest's Prometheus metrics text; empty until it has announced its port. */
export async function metricsOf(ingest: IngestProcess): Promise<string> {
  const port = httpPortOf(ingest);
  if (!port) return "";
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** What a failed wait on the ingest prints: its counters and the tail of its log. */
export async function ingestReport(ingest: IngestProcess): Promise<string> {
  const metrics = (await metricsOf(ingest).catch(() => ""))
    .split("\n")
    .filter((l) => l.startsWith("telemetry_ingest_") && !l.includes("_bucket"));
  return [...metrics, ...ingest.output().split("\n").slice(-30)].join("\n");
}

/**
 * Waits until every sample the fleet got acknowledged is indexed. On a timeout it says how many are
 * missing and, given the ingest, what the ingest counted and logged.
 */
export async function waitForNoLoss(
  client: Client,
  index: string,
  fleet: Fleet,
  timeoutMs: number,
  ingest?: IngestProcess,
): Promise<void> {
  await waitFor(
    "every acknowledged sample indexed",
    async () => (await oracle(client, index, fleet)).lost.length === 0,
    timeoutMs,
  ).catch(async (error: Error) => {
    const { lost, acked } = await oracle(client, index, fleet);
    const report = ingest ? `\n${await ingestReport(ingest)}` : "";
    throw new Error(`${error.message}: ${lost.length} of ${acked} lost${report}`);
  });
}

/** A valid load sample; `seq` makes each timestamp, and so each sample identity, distinct. */
export function loadSample(host: string, seq: number, base = Date.now()): string {
  return JSON.stringify({
    "@timestamp": new Date(base + seq).toISOString(),
    host: { name: host, architecture: "x64" },
    agent: { type: "telemetry-agent", version: "test" },
    event: { module: "telemetry", dataset: "telemetry.load" },
    metricset: { name: "load", period: 10_000 },
    system: {
      load: {
        "1": seq % 7,
        "5": 0.5,
        "15": 0.25,
        cores: 2,
        norm: { "1": (seq % 7) / 2, "5": 0.25, "15": 0.125 },
      },
    },
  });
}

/**
 * Publishes samples at QoS 1 and remembers which the broker acknowledged: the oracle's left side.
 * Identity of a sample = host + @timestamp (one metric here).
 */
export class Fleet {
  readonly acked = new Set<string>();
  private client: mqtt.MqttClient | undefined;
  private readonly base = Date.now() - 60_000;

  constructor(
    private readonly url: string,
    readonly hosts: string[] = [uniqueName("h-"), uniqueName("h-"), uniqueName("h-")],
  ) {}

  async connect(): Promise<void> {
    this.client = await mqtt.connectAsync(this.url, {
      clientId: uniqueName("fleet"),
      protocolVersion: 5,
      reconnectPeriod: 500,
    });
  }

  /** Publishes samples seq from..to-1 round-robin over the hosts; resolves when all are acked. */
  async publish(from: number, to: number): Promise<void> {
    const client = this.client!;
    const sends: Promise<unknown>[] = [];
    for (let seq = from; seq < to; seq++) {
      const host = this.hosts[seq % this.hosts.length]!;
      const payload = loadSample(host, seq, this.base);
      sends.push(
        client
          .publishAsync(sampleTopic(host, "load"), payload, { qos: 1 })
          .then(() => this.acked.add(`${host}|${new Date(this.base + seq).toISOString()}`)),
      );
    }
    await Promise.all(sends);
  }

  async close(): Promise<void> {
    await this.client?.endAsync();
  }
}

export interface OracleVerdict {
  acked: number;
  indexed: number;
  lost: string[];
  duplicated: string[];
}

/** acknowledged vs indexed: lost = acknowledged and not in Elasticsearch; duplicated = more than one document. */
export async function oracle(client: Client, index: string, fleet: Fleet): Promise<OracleVerdict> {
  await client.indices.refresh({ index }).catch(() => undefined);
  const counts = new Map<string, number>();
  // Every shard the pattern spans holds a scroll context until it is cleared or
  // expires; polling oracles would otherwise exhaust the node's limit of 500.
  let response = await client.search({
    index,
    scroll: "30s",
    size: 5000,
    _source: ["host.name", "@timestamp"],
    query: { match_all: {} },
  });
  const scrollIds = new Set<string>();
  try {
    for (;;) {
      if (response._scroll_id) scrollIds.add(response._scroll_id);
      for (const hit of response.hits.hits) {
        const source = hit._source as { host: { name: string }; "@timestamp": string };
        const key = `${source.host.name}|${source["@timestamp"]}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      if (response.hits.hits.length === 0 || !response._scroll_id) break;
      response = await client.scroll({ scroll_id: response._scroll_id, scroll: "30s" });
    }
  } finally {
    if (scrollIds.size > 0) {
      await client.clearScroll({ scroll_id: [...scrollIds] }).catch(() => undefined);
    }
  }
  const lost = [...fleet.acked].filter((k) => !counts.has(k));
  const duplicated = [...counts].filter(([, n]) => n > 1).map(([k]) => k);
  return { acked: fleet.acked.size, indexed: counts.size, lost, duplicated };
}

export async function countOf(client: Client, index: string): Promise<number> {
  await client.indices.refresh({ index }).catch(() => undefined);
  return (await client.count({ index }).catch(() => ({ count: 0 }))).count;
}
