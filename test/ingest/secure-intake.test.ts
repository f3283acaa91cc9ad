import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Client } from "@elastic/elasticsearch";
import mqtt, { type MqttClient } from "mqtt";
import {
  dataStreamFor,
  deadLetterStreamFor,
  MAX_PAYLOAD_BYTES,
  sampleTopic,
} from "@cluster-telemetry/contract";
import {
  INGEST_USER,
  sharedServices,
  startSecureBroker,
  uniqueName,
  type SecureBroker,
} from "@cluster-telemetry/dev-stack";
import { countOf, loadSample, spawnIngest, waitFor, type IngestProcess } from "./fleet.ts";

const ingestPassword = "ingest-pw-Zk31q";
const nodePassword = "node-pw-Lr08c";
const apiKey = "VGVzdEtleUlkOnRlc3Qta2V5LXNlY3JldC04OGpk";

/**
 * Elasticsearch behind TLS and API-key authentication, as a secured cluster answers: an HTTPS
 * endpoint with a certificate from the deployment's CA that forwards only requests carrying the
 * expected API key to the harness's node, and answers 401 to any other.
 */
async function securedElasticsearch(
  target: string,
  certsDir: string,
): Promise<{ server: Server; url: string; seen: { authorized: number; refused: number } }> {
  const seen = { authorized: 0, refused: 0 };
  const upstream = new URL(target);
  const server = createServer(
    { cert: readFileSync(join(certsDir, "broker.crt")), key: readFileSync(join(certsDir, "broker.key")) },
    (req, res) => {
      if (req.headers.authorization !== `ApiKey ${apiKey}`) {
        seen.refused += 1;
        res.writeHead(401, { "content-type": "application/json", "x-elastic-product": "Elasticsearch" });
        res.end(JSON.stringify({ error: { type: "security_exception", reason: "missing authentication" } }));
        return;
      }
      seen.authorized += 1;
      const forward = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on("error", () => res.destroy());
      req.pipe(forward);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `https://localhost:${(server.address() as AddressInfo).port}`, seen };
}

describe("telemetry-ingest with TLS and credentials towards the broker and Elasticsearch", () => {
  const services = sharedServices();
  const namespace = uniqueName("sec");
  const es = new Client({ node: services.elasticsearchUrl, requestTimeout: 30_000 });
  const dir = mkdtempSync(join(tmpdir(), "ingest-secrets-"));
  let broker: SecureBroker;
  let elasticsearch: Awaited<ReturnType<typeof securedElasticsearch>>;
  let ingest: IngestProcess;
  let node: MqttClient;

  before(async () => {
    broker = await startSecureBroker([
      { name: "node-a", password: nodePassword },
      { name: INGEST_USER, password: ingestPassword },
    ]);
    elasticsearch = await securedElasticsearch(services.elasticsearchUrl, broker.certsDir);
    writeFileSync(join(dir, "mqtt.pw"), ingestPassword, { mode: 0o600 });
    writeFileSync(join(dir, "es.key"), apiKey, { mode: 0o600 });
    ingest = spawnIngest([], {
      MQTT_URL: broker.servicesUrl,
      MQTT_USERNAME: INGEST_USER,
      MQTT_PASSWORD_FILE: join(dir, "mqtt.pw"),
      MQTT_CA_FILE: join(broker.certsDir, "ca.crt"),
      MQTT_CLIENT_ID: uniqueName("ingest-"),
      REDIS_URL: services.redisUrl,
      INGEST_REDIS_PREFIX: namespace,
      ELASTICSEARCH_URL: elasticsearch.url,
      ELASTICSEARCH_CA_FILE: join(broker.certsDir, "ca.crt"),
      ELASTICSEARCH_API_KEY_FILE: join(dir, "es.key"),
      INGEST_NAMESPACE: namespace,
      INGEST_BATCH_SIZE: "50",
      INGEST_FLUSH_INTERVAL: "200ms",
      LOG_LEVEL: "debug",
    });
    await waitFor("the ingest to subscribe", () => ingest.output().includes('"event":"broker_connected"'));
    node = await mqtt.connectAsync(broker.tlsUrl, {
      ca: readFileSync(join(broker.certsDir, "ca.crt")),
      username: "node-a",
      password: nodePassword,
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
  });
  after(async () => {
    ingest?.child.kill("SIGKILL");
    await node?.endAsync(true);
    elasticsearch?.server.close();
    await broker?.service.process.stop();
  });

  it("indexes a node's samples through the TLS services listener and an API key over HTTPS", async () => {
    for (let seq = 0; seq < 5; seq++)
      await node.publishAsync(sampleTopic("node-a", "load"), loadSample("node-a", seq), { qos: 1 });
    await waitFor("five documents", async () => (await countOf(es, dataStreamFor("load", namespace))) === 5);
    assert.ok(elasticsearch.seen.authorized > 0);
    assert.equal(elasticsearch.seen.refused, 0, "every request carried the API key");
  });

  it("dead-letters as spoofed a sample whose host differs from its topic, even on the node's own topic", async () => {
    await node.publishAsync(sampleTopic("node-a", "load"), loadSample("node-b", 100), { qos: 1 });
    await waitFor("the dead letter", async () => (await countOf(es, deadLetterStreamFor(namespace))) >= 1);
    const letters = await es.search<{ error: { message: string } }>({
      index: deadLetterStreamFor(namespace),
      query: { prefix: { "error.message": "spoofed" } },
    });
    assert.match(letters.hits.hits[0]?._source?.error.message ?? "", /^spoofed: payload host "node-b"/);
  });

  it("dead-letters a payload under the broker's limit but over the contract's cap; the broker refuses a larger one", async () => {
    const before = await countOf(es, deadLetterStreamFor(namespace));
    await node.publishAsync(sampleTopic("node-a", "load"), "y".repeat(MAX_PAYLOAD_BYTES + 1000), { qos: 1 });
    await waitFor(
      "an oversized dead letter",
      async () => (await countOf(es, deadLetterStreamFor(namespace))) > before,
    );
    const letters = await es.search<{ error: { message: string } }>({
      index: deadLetterStreamFor(namespace),
      query: { prefix: { "error.message": "oversized" } },
    });
    assert.equal(letters.hits.hits.length, 1);

    const closed = new Promise<void>((resolve) => node.once("close", () => resolve()));
    node.publish(sampleTopic("node-a", "load"), "z".repeat(70_000), { qos: 1 }, () => undefined);
    await closed;
    // A valid sample from a fresh connection is the marker: what came before it has been handled.
    const marker = await mqtt.connectAsync(broker.tlsUrl, {
      ca: readFileSync(join(broker.certsDir, "ca.crt")),
      username: "node-a",
      password: nodePassword,
      protocolVersion: 5,
    });
    await marker.publishAsync(sampleTopic("node-a", "load"), loadSample("node-a", 200), { qos: 1 });
    await marker.endAsync();
    await waitFor("the marker", async () => (await countOf(es, dataStreamFor("load", namespace))) === 6);
    assert.equal(
      await countOf(es, deadLetterStreamFor(namespace)),
      before + 1,
      "the 70 KB payload never arrived",
    );
  });

  it("never writes the broker password or the API key to its log", () => {
    const log = ingest.output();
    assert.ok(log.includes('"event":"broker_connected"'));
    for (const secret of [ingestPassword, apiKey, nodePassword]) assert.ok(!log.includes(secret));
  });
});
