import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { IClientOptions, MqttClient } from "mqtt";
import { connect, refusal } from "./clients.ts";
import { INGEST_USER, startSecureBroker, uniqueName, type SecureBroker } from "@cluster-telemetry/dev-stack";
import { waitFor } from "@cluster-telemetry/dev-stack";

const users = [
  { name: "node-a", password: "a-secret-1" },
  { name: "node-b", password: "b-secret-1" },
  { name: INGEST_USER, password: "ingest-secret-1" },
];

describe("the deployment's Mosquitto configuration (deploy/mosquitto)", () => {
  let broker: SecureBroker;
  let ingest: MqttClient;
  const received: string[] = [];
  const clients: MqttClient[] = [];
  const ca = () => readFileSync(join(broker.certsDir, "ca.crt"));
  const asNode = (name: string, password: string): IClientOptions => ({
    ca: ca(),
    username: name,
    password,
    clientId: name,
  });

  before(async () => {
    broker = await startSecureBroker(users);
    ingest = await connect(broker.servicesUrl, {
      ca: ca(),
      username: INGEST_USER,
      password: "ingest-secret-1",
      clientId: uniqueName("ingest-"),
    });
    ingest.on("message", (topic, payload) => received.push(`${topic} ${payload.toString()}`));
    await ingest.subscribeAsync("telemetry/v2/+/+", { qos: 1 });
  });
  after(async () => {
    for (const c of [...clients, ingest]) await c?.endAsync(true);
    await broker?.service.process.stop();
  });

  it("accepts a node over TLS with the CA and its password, and delivers to the ingest", async () => {
    const node = await connect(broker.tlsUrl, asNode("node-a", "a-secret-1"));
    clients.push(node);
    await node.publishAsync("telemetry/v2/node-a/cpu", "tls-with-password", { qos: 1 });
    await waitFor("delivery to the ingest", () =>
      received.includes("telemetry/v2/node-a/cpu tls-with-password"),
    );
  });

  it("accepts a node over mutual TLS with no password, its certificate naming the user", async () => {
    const node = await connect(broker.mutualTlsUrl, {
      ca: ca(),
      cert: readFileSync(join(broker.certsDir, "node-b.crt")),
      key: readFileSync(join(broker.certsDir, "node-b.key")),
      clientId: "node-b",
    });
    clients.push(node);
    await node.publishAsync("telemetry/v2/node-b/load", "mutual-tls", { qos: 1 });
    await waitFor("delivery to the ingest", () => received.includes("telemetry/v2/node-b/load mutual-tls"));
    // The certificate's CN is the user: node-b's certificate does not open node-a's topics.
    await assert.rejects(
      node.publishAsync("telemetry/v2/node-a/load", "cn-spoof", { qos: 1 }),
      /Not authorized/i,
    );
  });

  it("refuses a plain MQTT connection on the TLS port", async () => {
    const port = new URL(broker.tlsUrl).port;
    const message = await refusal(`mqtt://127.0.0.1:${port}`, {
      username: "node-a",
      password: "a-secret-1",
      clientId: "node-a",
    });
    assert.notEqual(message, "", "a clear-text client must not get a session on the TLS listener");
  });

  it("refuses a wrong password, an unknown user and an anonymous client", async () => {
    assert.match(
      await refusal(broker.tlsUrl, asNode("node-a", "wrong")),
      /Bad User Name or Password|Not authorized/i,
    );
    assert.match(
      await refusal(broker.tlsUrl, asNode("node-z", "a-secret-1")),
      /Bad User Name or Password|Not authorized/i,
    );
    assert.match(
      await refusal(broker.tlsUrl, { ca: ca(), clientId: "anon" }),
      /Not authorized|Bad User Name/i,
    );
    assert.match(await refusal(broker.plainUrl, { clientId: "anon" }), /Not authorized|Bad User Name/i);
  });

  it("refuses a client certificate from another CA, and a client without one, on the mutual-TLS port", async () => {
    const rogue = await refusal(broker.mutualTlsUrl, {
      ca: ca(),
      cert: readFileSync(join(broker.rogueCertsDir, "node-a.crt")),
      key: readFileSync(join(broker.rogueCertsDir, "node-a.key")),
      clientId: "node-a",
    });
    assert.notEqual(rogue, "", "a certificate signed by an unknown CA must be refused");
    const none = await refusal(broker.mutualTlsUrl, { ca: ca(), clientId: "node-a" });
    assert.notEqual(none, "", "a client without a certificate must be refused");
  });

  it("refuses a server certificate the node does not trust (no CA given)", async () => {
    const message = await refusal(broker.tlsUrl, {
      username: "node-a",
      password: "a-secret-1",
      clientId: "node-a",
    });
    assert.match(message, /self[- ]signed|unable to (get|verify)|certificate/i);
  });

  it("lets node A publish only under its own host: node B's topics answer 0x87 and reach no one", async () => {
    const node = await connect(broker.tlsUrl, asNode("node-a", "a-secret-1"));
    clients.push(node);
    const refused = await node.publishAsync("telemetry/v2/node-b/cpu", "spoofed-by-a", { qos: 1 }).then(
      () => undefined,
      (error: Error & { code?: number }) => error.code,
    );
    assert.equal(refused, 0x87);
    // A marker published after it arrives; the spoofed message, sent first, never does.
    await node.publishAsync("telemetry/v2/node-a/cpu", "marker-after-spoof", { qos: 1 });
    await waitFor("the marker", () => received.includes("telemetry/v2/node-a/cpu marker-after-spoof"));
    assert.ok(!received.some((m) => m.includes("spoofed-by-a")));
  });

  it("gives a node no read access, and the ingest no write access", async () => {
    const reader = await connect(broker.tlsUrl, asNode("node-a", "a-secret-1"));
    const writer = await connect(broker.tlsUrl, asNode("node-b", "b-secret-1"));
    clients.push(reader, writer);
    const seenByNode: string[] = [];
    reader.on("message", (topic) => seenByNode.push(topic));
    // Mosquitto 2.0 grants the subscription and filters every delivery through the read ACL.
    await reader.subscribeAsync("telemetry/v2/#", { qos: 1 });
    await writer.publishAsync("telemetry/v2/node-b/cpu", "not-for-nodes", { qos: 1 });
    await waitFor("delivery to the ingest", () => received.includes("telemetry/v2/node-b/cpu not-for-nodes"));
    // A round trip on the reader's own connection: anything delivered to it has arrived by now.
    await reader.publishAsync("telemetry/v2/node-a/cpu", "reader-sync", { qos: 1 });
    await waitFor("the reader's own publish", () => received.includes("telemetry/v2/node-a/cpu reader-sync"));
    assert.deepEqual(seenByNode, []);

    for (const topic of ["telemetry/v2/node-a/cpu", `telemetry/v2/${INGEST_USER}/cpu`]) {
      await assert.rejects(ingest.publishAsync(topic, "from-ingest", { qos: 1 }), /Not authorized/i, topic);
    }
    assert.ok(!received.some((m) => m.includes("from-ingest")));
  });

  it("refuses a payload over its max_packet_size at the broker", async () => {
    const node = await connect(broker.tlsUrl, { ...asNode("node-a", "a-secret-1"), reconnectPeriod: 0 });
    clients.push(node);
    const closed = new Promise<void>((resolve) => node.once("close", () => resolve()));
    node.publish("telemetry/v2/node-a/cpu", Buffer.alloc(70_000, "x"), { qos: 1 }, () => undefined);
    await closed;
    assert.ok(!received.some((m) => m.length > 60_000), "the oversized payload was delivered");
  });
});
