import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import {
  METRIC_NAMES,
  decodeMessage,
  STATUS_LEVEL,
  SUBSCRIPTION,
  TOPIC_ROOT,
} from "@cluster-telemetry/contract";
import type { SimulationSummary } from "../../../agent/src/simulate/fleet-simulator.ts";
import { VirtualHost } from "../../../agent/src/simulate/virtual-host.ts";
import { MosquittoService, uniqueName } from "@cluster-telemetry/dev-stack";
import { spawnAgent, waitFor } from "../agent-process.ts";

function summaryOf(output: string): SimulationSummary {
  const line = output.split("\n").find((l) => l.startsWith('{"event":"simulation_summary"'));
  assert.ok(line, `no summary in:\n${output}`);
  return JSON.parse(line) as SimulationSummary;
}

describe("a virtual host", () => {
  it("produces schema-valid samples for every metric, and a valid retained status", () => {
    for (let seed = 0; seed < 20; seed++) {
      const host = new VirtualHost(`v-${seed}`, seed);
      const messages = [...host.samples(Date.now(), 1000), host.status("offline", Date.now(), 1000)];
      for (const m of messages) {
        const decoded = decodeMessage(m.topic, m.payload.toString());
        assert.ok(decoded.ok, `${m.topic}: ${decoded.ok ? "" : decoded.reason}`);
      }
      const kinds = messages.map((m) => m.topic.split("/")[3]);
      // One sample of every metric of the contract, each once.
      const sensorless = (m: string) => m === "temperature" || m === "temperature_sensor" || m === "status";
      assert.deepEqual(
        kinds.filter((k) => !sensorless(k!)),
        METRIC_NAMES.filter((m) => !sensorless(m)),
      );
      // Virtual machines, like real ones, have no temperature sensor: no reading rather than a 0.
      assert.equal(kinds.includes("temperature"), host.profile.sensor !== "none");
      assert.equal(kinds.includes("temperature_sensor"), host.profile.sensor !== "none");
    }
  });

  it("drifts plausibly: fractions within 0..1, load following the CPU, temperatures in range", () => {
    const host = new VirtualHost("drift", 7);
    let now = Date.now();
    for (let i = 0; i < 600; i++, now += 1000) {
      for (const m of host.samples(now, 1000)) {
        const body = JSON.parse(m.payload.toString()) as {
          system: {
            cpu?: { total: { norm: { pct: number } } };
            load?: { norm: { "1": number } };
            temperature?: { celsius: number };
          };
        };
        const pct = body.system.cpu?.total.norm.pct;
        if (pct !== undefined) assert.ok(pct >= 0 && pct <= 1);
        const load = body.system.load?.norm["1"];
        if (load !== undefined) assert.ok(load >= 0 && load <= 1.5);
        const celsius = body.system.temperature?.celsius;
        if (celsius !== undefined) assert.ok(celsius > 20 && celsius < 100, `${celsius} °C`);
      }
    }
  });
});

describe("telemetry-agent simulate", () => {
  let broker: MosquittoService;
  let listener: MqttClient;
  const received: { topic: string; payload: string; retain: boolean }[] = [];

  before(async () => {
    broker = await MosquittoService.start();
    listener = await mqtt.connectAsync(broker.url, { clientId: uniqueName("listener"), protocolVersion: 5 });
    listener.on("message", (topic, payload, packet) =>
      received.push({ topic, payload: payload.toString(), retain: packet.retain }),
    );
    await listener.subscribeAsync(SUBSCRIPTION, { qos: 1 });
  });
  after(async () => {
    await listener?.endAsync();
    await broker?.process.stop();
  });

  it("publishes for every virtual host over real connections, and its summary counts what the broker acked", async () => {
    const run = spawnAgent(
      [
        "simulate",
        "--broker",
        broker.url,
        "--hosts",
        // 150 hosts of eight metrics at 1 s: the same 1,200 messages a second the test has always
        // sent (300 hosts of four metrics), which a loaded 2-core machine acknowledges in time.
        "150",
        "--connections",
        "4",
        "--interval",
        "1",
        "--duration",
        "4",
        "--offline-rate",
        "0.05",
        "--prefix",
        "simtest",
      ],
      { LOG_LEVEL: "warn" },
    );
    assert.equal(await run.exited, 0, run.output());
    const summary = summaryOf(run.output());
    assert.equal(summary.hosts, 150);
    assert.equal(summary.failed, 0);
    assert.equal(summary.pending, 0);
    assert.equal(summary.acked, summary.published, "every message the fleet produced was acknowledged");
    // The listener subscribed at QoS 1 before the run: it got everything the broker acknowledged.
    assert.equal(received.length, summary.acked);
    for (const m of received) assert.ok(decodeMessage(m.topic, m.payload).ok, m.topic);
    const hosts = new Set(received.map((m) => m.topic.split("/")[2]));
    assert.equal(hosts.size, 150, "distinct host names");
    const offline = received.filter((m) => m.topic.endsWith("/status") && m.payload.includes('"offline"'));
    assert.ok(offline.length > 0, "some hosts went offline");
    // Statuses are retained, as the real agent's: a late subscriber learns every host's state.
    const late = await mqtt.connectAsync(broker.url, { clientId: uniqueName("late"), protocolVersion: 5 });
    const retained = new Set<string>();
    late.on("message", (topic, _payload, packet) => {
      if (packet.retain) retained.add(topic);
    });
    await late.subscribeAsync(`${TOPIC_ROOT}/+/${STATUS_LEVEL}`, { qos: 1 });
    await waitFor("150 retained statuses", () => retained.size === 150);
    await late.endAsync();
    assert.match(run.output(), /^limit: /m);
  });

  it("exits 2 and names each invalid simulator or connection option", async () => {
    const run = spawnAgent(["simulate", "--hosts", "0", "--interval", "0.1", "--broker", "http://x"]);
    assert.equal(await run.exited, 2);
    assert.match(run.output(), /--hosts: must be at least 1 \(got 0\)/);
    assert.match(run.output(), /interval/);
  });
});
