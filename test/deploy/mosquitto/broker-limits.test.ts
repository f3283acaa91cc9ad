import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from "mqtt";
import {
  METRIC_NAMES,
  RETIRED_LEVELS,
  RETIRED_TOPIC_ROOT,
  sampleTopic,
  STATUS_LEVEL,
  TOPIC_ROOT,
} from "@cluster-telemetry/contract";
import { VirtualHost } from "../../../agent/src/simulate/virtual-host.ts";
import { INGEST_USER, startSecureBroker, type SecureBroker } from "@cluster-telemetry/dev-stack";
import { waitFor } from "@cluster-telemetry/dev-stack";
import { BASE, SCALE, bytes, resolved } from "../compose-file.ts";

const deployDir = resolve(import.meta.dirname, "..", "..", "..", "deploy", "mosquitto");
const passwords = { "node-a": "a-secret-1", [INGEST_USER]: "ingest-secret-1" };

/** A setting of deploy/mosquitto/mosquitto.conf, as a number. */
function setting(name: string): number {
  const match = new RegExp(`^${name} (\\d+)$`, "m").exec(
    readFileSync(join(deployDir, "mosquitto.conf"), "utf8"),
  );
  assert.ok(match, `mosquitto.conf sets ${name}`);
  return Number(match[1]);
}

const rss = (pid: number) =>
  Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;

describe("the deployment's broker limits (deploy/mosquitto)", () => {
  let broker: SecureBroker;
  let ingest: MqttClient;
  const received: string[] = [];
  const ca = () => readFileSync(join(broker.certsDir, "ca.crt"));
  const asNode = (extra: IClientOptions = {}): IClientOptions => ({
    ca: ca(),
    username: "node-a",
    password: passwords["node-a"],
    clientId: "node-a",
    reconnectPeriod: 0,
    ...extra,
  });
  /** A marker published after `what` arrives only once everything sent before it has. */
  const sync = async (node: MqttClient, marker: string) => {
    await node.publishAsync(sampleTopic("node-a", "cpu"), marker, { qos: 1 });
    await waitFor(marker, () => received.includes(`${sampleTopic("node-a", "cpu")} ${marker}`));
  };

  before(async () => {
    broker = await startSecureBroker(
      Object.entries(passwords).map(([name, password]) => ({ name, password })),
    );
    ingest = await mqtt.connectAsync(broker.servicesUrl, {
      ca: ca(),
      username: INGEST_USER,
      password: passwords[INGEST_USER],
      clientId: "telemetry-ingest-limits",
      protocolVersion: 5,
    });
    ingest.on("message", (topic, payload) => received.push(`${topic} ${payload.toString()}`));
    await ingest.subscribeAsync(`${TOPIC_ROOT}/#`, { qos: 1 });
  });
  after(async () => {
    await ingest?.endAsync(true);
    await broker?.service.process.stop();
  });

  it("grants a node exactly the contract's metric topics and its status, one level under its host, and the retired version's", () => {
    const granted = readFileSync(join(deployDir, "acl"), "utf8")
      .split("\n")
      .filter((line) => line.startsWith("pattern write "))
      .map((line) => line.slice("pattern write ".length));
    assert.deepEqual(
      granted.sort(),
      [
        ...[...METRIC_NAMES, STATUS_LEVEL].map((level) => `${TOPIC_ROOT}/%u/${level}`),
        ...RETIRED_LEVELS.map((level) => `${RETIRED_TOPIC_ROOT}/%u/${level}`),
      ].sort(),
    );
  });

  it("refuses a topic deeper than a metric, or a metric the contract does not name (0x87)", async () => {
    const node = await mqtt.connectAsync(broker.tlsUrl, { ...asNode(), protocolVersion: 5 });
    try {
      for (const topic of [
        `${TOPIC_ROOT}/node-a/cpu/deeper`,
        sampleTopic("node-a", "made-up"),
        `${TOPIC_ROOT}/node-a`,
      ]) {
        const code = await node.publishAsync(topic, "refused", { qos: 1 }).then(
          () => undefined,
          (error: Error & { code?: number }) => error.code,
        );
        assert.equal(code, 0x87, topic);
      }
      await sync(node, "after-refused-topics");
      assert.ok(!received.some((m) => m.endsWith(" refused")));
    } finally {
      await node.endAsync(true);
    }
  });

  it("refuses QoS 2: the broker announces QoS 1 at most and disconnects a client that sends QoS 2", async () => {
    const v5 = mqtt.connect(broker.tlsUrl, { ...asNode(), protocolVersion: 5 });
    const connack = await new Promise<IConnackPacket>((ok, fail) => {
      v5.once("connect", ok);
      v5.once("error", fail);
    });
    assert.equal(connack.properties?.maximumQoS, 1);
    await v5.endAsync(true);
    // An MQTT 3.1.1 client is not told; it is disconnected when it tries.
    const v4 = await mqtt.connectAsync(broker.tlsUrl, { ...asNode(), protocolVersion: 4 });
    const closed = new Promise<void>((r) => v4.once("close", () => r()));
    v4.publish(sampleTopic("node-a", "cpu"), "qos-2", { qos: 2 }, () => undefined);
    await closed;
    await v4.endAsync(true);
    const node = await mqtt.connectAsync(broker.tlsUrl, { ...asNode(), protocolVersion: 5 });
    await sync(node, "after-qos-2");
    await node.endAsync(true);
    assert.ok(!received.includes(`${sampleTopic("node-a", "cpu")} qos-2`), "the QoS 2 message was delivered");
  });

  it("bounds each ingest session's queue so that every session's full queue fits the broker's memory limit", async () => {
    // What one queued sample costs the broker: its resident memory before and after queueing
    // realistic samples (the simulator's mix of the four metrics) for a session that is away.
    const away = await mqtt.connectAsync(broker.servicesUrl, {
      ca: ca(),
      username: INGEST_USER,
      password: passwords[INGEST_USER],
      clientId: "telemetry-ingest-away",
      clean: false,
      protocolVersion: 5,
      properties: { sessionExpiryInterval: 600 },
    });
    await away.subscribeAsync(`${TOPIC_ROOT}/+/+`, { qos: 1 });
    await away.endAsync();
    const node = await mqtt.connectAsync(broker.tlsUrl, { ...asNode(), protocolVersion: 5 });
    const host = new VirtualHost("node-a", 7);
    const pid = broker.service.process.pid!;
    const count = 10_000;
    let payloadBytes = 0;
    let now = Date.now();
    const before = rss(pid);
    for (let sent = 0; sent < count;) {
      const batch = [];
      while (batch.length < 500) batch.push(...host.samples((now += 10_000), 10_000));
      await Promise.all(
        batch.map((m) => {
          payloadBytes += m.payload.length;
          sent += 1;
          return node.publishAsync(m.topic, m.payload, { qos: 1 });
        }),
      );
    }
    const perMessage = (rss(pid) - before) / count;
    const payload = payloadBytes / count;
    await node.endAsync(true);

    const queued = Math.min(setting("max_queued_messages"), setting("max_queued_bytes") / payload);
    assert.ok(setting("max_queued_bytes") > 0, "max_queued_bytes bounds large payloads");
    const scaled = resolved([BASE, SCALE]);
    const sessions = Object.keys(scaled.services).filter((n) => /^ingest(-\d+)?$/.test(n)).length;
    const limit = bytes(scaled.services.mosquitto!.mem_limit, "mosquitto");
    const worst = sessions * queued * perMessage;
    process.stderr.write(
      `broker: ${perMessage.toFixed(0)} B per queued sample of ${payload.toFixed(0)} B; ${sessions} sessions × ${queued.toFixed(0)} = ${(worst / 2 ** 20).toFixed(0)} MiB of ${(limit / 2 ** 20).toFixed(0)} MiB\n`,
    );
    // Half the limit: the rest is for the broker itself, its connections' TLS buffers and the save.
    assert.ok(worst <= limit / 2, `full queues take ${worst} B against a ${limit} B limit`);
  });
});
