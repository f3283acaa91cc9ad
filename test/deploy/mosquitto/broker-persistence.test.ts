import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import mqtt, { type IClientOptions } from "mqtt";
import { INGEST_USER, startSecureBroker, type SecureBroker } from "@cluster-telemetry/dev-stack";
import { waitFor } from "@cluster-telemetry/dev-stack";

const root = resolve(import.meta.dirname, "..", "..", "..");
const passwords = { "node-a": "a-secret-1", [INGEST_USER]: "ingest-secret-1" };

/**
 * The window the README and deploy/README state: a broker killed with -9 loses at most what it
 * acknowledged in the last 2 s. Mosquitto saves when more than `autosave_interval` whole seconds
 * have passed since the last save, so `autosave_interval 1` saves every 2 s at the latest.
 */
const WINDOW_S = 2;

describe("the deployment's broker keeps what it acknowledged through a kill -9 (deploy/mosquitto)", () => {
  let broker: SecureBroker;
  const ca = () => readFileSync(join(broker.certsDir, "ca.crt"));
  const ingestSession = (): IClientOptions => ({
    ca: ca(),
    username: INGEST_USER,
    password: passwords[INGEST_USER],
    clientId: "telemetry-ingest-1",
    clean: false,
    protocolVersion: 5,
    reconnectPeriod: 0,
    properties: { sessionExpiryInterval: 3600 },
  });

  before(async () => {
    broker = await startSecureBroker(
      Object.entries(passwords).map(([name, password]) => ({ name, password })),
    );
  });
  after(async () => {
    await broker?.service.process.stop();
  });

  it("states the window in both READMEs, and the configuration keeps to it", () => {
    const conf = readFileSync(join(root, "deploy/mosquitto/mosquitto.conf"), "utf8");
    const interval = Number(/^autosave_interval (\d+)$/m.exec(conf)?.[1]);
    assert.doesNotMatch(conf, /^autosave_on_changes true$/m, "saves by time, not on every change");
    assert.ok(interval + 1 <= WINDOW_S, `autosave_interval ${interval} saves every ${interval + 1} s`);
    for (const readme of ["README.md", "deploy/README.md"])
      assert.match(readFileSync(join(root, readme), "utf8"), /kill -9[^.]*last 2 s/, readme);
  });

  it("delivers 10 of 10 acknowledged samples to the ingest's session after kill -9 and a restart", async () => {
    const away = await mqtt.connectAsync(broker.servicesUrl, ingestSession());
    await away.subscribeAsync("telemetry/v2/+/+", { qos: 1 });
    await away.endAsync();

    const node = await mqtt.connectAsync(broker.tlsUrl, {
      ca: ca(),
      username: "node-a",
      password: passwords["node-a"],
      clientId: "node-a",
      protocolVersion: 5,
    });
    for (let i = 0; i < 10; i++) await node.publishAsync("telemetry/v2/node-a/cpu", `kept-${i}`, { qos: 1 });
    const acknowledgedAt = Date.now();
    await node.endAsync();

    // The store is written within the window; then the broker dies without a chance to save.
    const store = join(broker.service.dir, "data", "mosquitto.db");
    await waitFor(
      `a save of the broker's store within ${WINDOW_S} s`,
      () => (statSync(store, { throwIfNoEntry: false })?.mtimeMs ?? 0) > acknowledgedAt,
      WINDOW_S * 1000 + 500,
    );
    await broker.service.process.kill();
    await broker.service.process.start();

    const received: string[] = [];
    const back = mqtt.connect(broker.servicesUrl, ingestSession());
    back.on("message", (_topic, payload) => received.push(payload.toString()));
    await waitFor("the 10 samples", () => received.length >= 10, 15_000).catch(() => undefined);
    await back.endAsync();
    assert.deepEqual(
      received.sort(),
      Array.from({ length: 10 }, (_, i) => `kept-${i}`),
    );
  });
});
