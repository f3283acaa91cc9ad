import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import { pino } from "pino";
import { sampleTopic } from "@cluster-telemetry/contract";
import { loadIngestConfig, type IngestConfig } from "../../../ingest/src/config/ingest-config.ts";
import type { IndexedDocument } from "../../../ingest/src/documents.ts";
import { Intake } from "../../../ingest/src/intake/intake.ts";
import { createMetrics } from "../../../ingest/src/ops/metrics.ts";
import { MosquittoService, uniqueName } from "@cluster-telemetry/dev-stack";
import { waitFor } from "@cluster-telemetry/dev-stack";
import { loadSample } from "../fleet.ts";

// The intake alone, against a real broker, with a store that records each write and can be held
// shut: how messages are gathered into writes, and that no PUBACK leaves before its write returns.
// (The Redis side of the store is the staging tests'; the whole path is the pipeline tests'.)

interface Write {
  documents: IndexedDocument[];
}

class RecordingStore {
  readonly writes: Write[] = [];
  private open: Promise<void> = Promise.resolve();
  private release: () => void = () => undefined;

  hold(): void {
    this.open = new Promise((r) => (this.release = r));
  }

  letGo(): void {
    this.release();
  }

  readonly store = async (documents: IndexedDocument[]): Promise<void> => {
    this.writes.push({ documents });
    await this.open;
  };

  get stored(): number {
    return this.writes.reduce((n, w) => n + w.documents.length, 0);
  }
}

describe("the intake", () => {
  let broker: MosquittoService;
  const running: Array<{ stop: () => Promise<void> }> = [];
  before(async () => {
    // Its own broker: a persistent ingest session would queue every other test's samples.
    broker = await MosquittoService.start();
  });
  after(async () => {
    for (const r of running) await r.stop();
    await broker.process.stop();
  });

  function startIntake(lingerMs: number, store: RecordingStore) {
    const base = loadIngestConfig([], { MQTT_URL: broker.url, MQTT_CLIENT_ID: uniqueName("intake") });
    const config: IngestConfig = { ...base, stageLingerMs: lingerMs };
    const metrics = createMetrics();
    const intake = new Intake(config, {
      store: store.store,
      paused: () => false,
      gate: async () => undefined,
      metrics,
      log: pino({ level: "silent" }),
    });
    intake.start();
    running.push(intake);
    // PUBACKs counted on their way to the wire: the publisher's own acknowledgement comes from the
    // broker, whatever the intake does.
    let pubacks = 0;
    (intake as unknown as { client: MqttClient }).client.on("packetsend", (packet) => {
      if (packet.cmd === "puback") pubacks += 1;
    });
    return {
      intake,
      pubacks: () => pubacks,
      received: async () => (await metrics.received.get()).values[0]?.value ?? 0,
    };
  }

  async function publisher(): Promise<MqttClient> {
    const client = await mqtt.connectAsync(broker.url, { clientId: uniqueName("pub"), protocolVersion: 5 });
    running.push({ stop: () => client.endAsync() });
    return client;
  }

  it("gathers a burst that arrives within the linger into one write, and acknowledges none of it before that write returns", async () => {
    const store = new RecordingStore();
    const { intake, pubacks } = startIntake(300, store);
    await waitFor("the intake connected", () => intake.connected);
    await new Promise((r) => setTimeout(r, 300)); // its subscription is in place
    store.hold();
    const pub = await publisher();
    const host = uniqueName("burst");
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        pub.publishAsync(sampleTopic(host, "load"), loadSample(host, i), { qos: 1 }),
      ),
    );
    await waitFor("the burst written", () => store.stored === 50);
    assert.deepEqual(
      store.writes.map((w) => w.documents.length),
      [50],
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(pubacks(), 0, "no PUBACK while the write has not returned");
    store.letGo();
    await waitFor("every message acknowledged", () => pubacks() === 50);
  });

  it("writes a batch of half the Receive Maximum at once, and on stop writes and acknowledges the batch still lingering", async () => {
    const store = new RecordingStore();
    // A linger far longer than the test: only the batch's size and the stop can start a write.
    const { intake, received } = startIntake(600_000, store);
    await waitFor("the intake connected", () => intake.connected);
    await new Promise((r) => setTimeout(r, 300));
    const pub = await publisher();
    const host = uniqueName("large");
    let acknowledged = 0;
    const send = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) =>
        pub
          .publishAsync(sampleTopic(host, "load"), loadSample(host, from + i), { qos: 1 })
          .then(() => (acknowledged += 1)),
      );
    const large = send(0, 500);
    await Promise.all(large);
    await waitFor("the large batch written", () => store.stored === 500);
    assert.deepEqual(
      store.writes.map((w) => w.documents.length),
      [500],
    );
    const rest = send(500, 100);
    await waitFor("the rest received", async () => (await received()) === 600);
    assert.equal(store.stored, 500, "the rest lingers");
    running.splice(running.indexOf(intake), 1);
    await intake.stop();
    await Promise.all(rest);
    assert.equal(store.stored, 600);
    assert.equal(acknowledged, 600);
  });
});
