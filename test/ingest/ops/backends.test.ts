import assert from "node:assert/strict";
import { connect, createServer, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import { Client } from "@elastic/elasticsearch";
import {
  freePort,
  MosquittoService,
  RedisService,
  sharedServices,
  uniqueName,
} from "@cluster-telemetry/dev-stack";
import { Fleet, httpPortOf, spawnIngest, waitFor, waitForNoLoss, type IngestProcess } from "../fleet.ts";
import { dataStreamFor } from "@cluster-telemetry/contract";

/** A TCP relay to the shared Elasticsearch, opened only when the test says: Elasticsearch "coming up". */
function relayTo(target: string, port: number): Promise<Server> {
  const { hostname, port: targetPort } = new URL(target);
  const server = createServer((socket) => {
    const upstream = connect(Number(targetPort), hostname);
    socket.pipe(upstream).pipe(socket);
    socket.on("error", () => upstream.destroy());
    upstream.on("error", () => socket.destroy());
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

describe("the ingest with a back end down", () => {
  const shared = sharedServices();
  let broker: MosquittoService;
  const processes: IngestProcess[] = [];
  const cleanup: Array<() => Promise<unknown>> = [];
  const es = new Client({ node: shared.elasticsearchUrl });
  before(async () => {
    // Its own broker: the ingests' persistent sessions must not linger on the shared one.
    broker = await MosquittoService.start();
  });
  after(async () => {
    for (const p of processes) p.child.kill("SIGKILL");
    for (const c of cleanup) await c();
    await es.close();
    await broker.process.stop();
  });
  const envFor = (namespace: string, redisUrl: string, elasticsearchUrl: string) => ({
    MQTT_URL: broker.url,
    REDIS_URL: redisUrl,
    ELASTICSEARCH_URL: elasticsearchUrl,
    INGEST_NAMESPACE: namespace,
    INGEST_REDIS_PREFIX: namespace,
    MQTT_CLIENT_ID: `ingest-${namespace}`,
    INGEST_FLUSH_INTERVAL: "200ms",
  });
  const readiness = async (ingest: IngestProcess) => {
    const response = await fetch(`http://127.0.0.1:${httpPortOf(ingest)}/readyz`);
    return { status: response.status, body: (await response.json()) as Record<string, boolean> };
  };

  it("names Redis and Elasticsearch when both are down at start, waits for each, says which is down, and indexes once they answer", async () => {
    const namespace = uniqueName("down");
    const [redisPort, esPort] = [await freePort(), await freePort()];
    const ingest = spawnIngest(
      [],
      envFor(namespace, `redis://127.0.0.1:${redisPort}`, `http://127.0.0.1:${esPort}`),
    );
    processes.push(ingest);
    await waitFor("both back ends named", () =>
      [
        `Redis at redis://127.0.0.1:${redisPort} unreachable (connect ECONNREFUSED`,
        `Elasticsearch at http://127.0.0.1:${esPort} unreachable (connect ECONNREFUSED`,
      ].every((line) => ingest.output().includes(line)),
    );
    await waitFor("the health port", () => httpPortOf(ingest) !== undefined);
    assert.deepEqual(await readiness(ingest), {
      status: 503,
      body: { broker: true, redis: false, elasticsearch: false },
    });
    // Each outage is one line, however often the clients retry.
    assert.equal(ingest.output().match(/"event":"backend_unreachable","backend":"Redis"/g)?.length, 1);

    const redis = await RedisService.start({ port: redisPort });
    cleanup.push(() => redis.process.stop());
    await waitFor("Redis reachable", () => /"backend":"Redis",[^\n]*reachable again/.test(ingest.output()));
    const relay = await relayTo(shared.elasticsearchUrl, esPort);
    cleanup.push(() => new Promise((r) => relay.close(r)));
    await waitFor(
      "Elasticsearch reachable",
      () =>
        ingest.output().includes("reachable again") &&
        ingest.output().includes('"event":"templates_installed"'),
    );
    await waitFor("ready", async () => (await readiness(ingest)).status === 200, 30_000);

    const fleet = new Fleet(broker.url);
    cleanup.push(() => fleet.close());
    await fleet.connect();
    await fleet.publish(0, 30);
    await waitForNoLoss(es, dataStreamFor("load", namespace), fleet, 60_000, ingest);
    assert.equal(ingest.child.exitCode, null, "the ingest kept running throughout");
  });

  it("stops within 10 s of SIGTERM while Redis is unreachable, and what Redis did not get stays with the broker", async () => {
    const namespace = uniqueName("stop");
    const redis = await RedisService.start();
    cleanup.push(() => redis.process.stop());
    const env = envFor(namespace, redis.url, shared.elasticsearchUrl);
    const first = spawnIngest([], env);
    processes.push(first);
    await waitFor(
      "ready",
      async () => httpPortOf(first) !== undefined && (await readiness(first)).status === 200,
    );
    await redis.process.stop();

    const fleet = new Fleet(broker.url);
    cleanup.push(() => fleet.close());
    await fleet.connect();
    await fleet.publish(0, 20);
    await waitFor("the Redis outage named", () =>
      first.output().includes(`Redis at ${redis.url} unreachable`),
    );
    first.child.kill("SIGTERM");
    assert.equal(await first.exited, 0);
    assert.match(
      first.output(),
      /stop did not finish within 10 s \(unreachable: Redis\); messages not yet in Redis stay unacknowledged with the broker/,
    );

    await redis.process.start();
    const second = spawnIngest([], env);
    processes.push(second);
    await waitForNoLoss(es, dataStreamFor("load", namespace), fleet, 60_000, second);
  });
});
