import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import mqtt from "mqtt";
import { decodeMessage, statusTopic } from "@cluster-telemetry/contract";
import { MosquittoService, sharedServices, uniqueName } from "@cluster-telemetry/dev-stack";
import { spawnAgent, waitFor, type AgentProcess } from "./agent-process.ts";

interface Received {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

async function listen(
  url: string,
  filter: string,
): Promise<{ messages: Received[]; client: mqtt.MqttClient }> {
  const client = await mqtt.connectAsync(url, { clientId: uniqueName("listener"), protocolVersion: 5 });
  const messages: Received[] = [];
  client.on("message", (topic, payload, packet) =>
    messages.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain }),
  );
  await client.subscribeAsync(filter, { qos: 1 });
  return { messages, client };
}

const statusOf = (m: Received) =>
  (JSON.parse(m.payload) as { telemetry: { status: string; buffer: { dropped: number } } }).telemetry;

describe("telemetry-agent against a real Mosquitto", () => {
  const agents: AgentProcess[] = [];
  const clients: mqtt.MqttClient[] = [];
  after(async () => {
    for (const a of agents) a.child.kill("SIGKILL");
    for (const c of clients) await c.endAsync();
  });

  it("publishes every metric on its documented topic at QoS 1, schema-valid and not retained", async () => {
    const { mqttUrl } = sharedServices();
    const host = uniqueName("node-");
    const { messages, client } = await listen(mqttUrl, `telemetry/v2/${host}/#`);
    clients.push(client);
    const agent = spawnAgent(["--broker", mqttUrl, "--host", host, "--interval", "1"]);
    agents.push(agent);
    await waitFor("cpu, load and memory twice", () =>
      ["cpu", "load", "memory"].every((m) => messages.filter((x) => x.topic.endsWith(`/${m}`)).length >= 2),
    );
    for (const m of messages) {
      const decoded = decodeMessage(m.topic, m.payload);
      assert.ok(decoded.ok, `${m.topic}: ${decoded.ok ? "" : decoded.reason}`);
      assert.equal(m.qos, 1);
      if (decoded.kind !== "status") assert.equal(m.retain, false, "samples are never retained");
    }
    // This machine has no temperature sensor: no temperature message, and the status says so.
    assert.equal(messages.filter((m) => m.topic.endsWith("/temperature")).length, 0);
    const status = messages.find((m) => m.topic === statusTopic(host));
    assert.ok(status);
    assert.equal(
      (JSON.parse(status.payload) as { telemetry: { sensors: Record<string, string> } }).telemetry.sensors
        .temperature,
      "none",
    );
    agent.child.kill("SIGTERM");
    assert.equal(await agent.exited, 0);
  });

  it("keeps a retained status: online while running, offline after SIGTERM, offline through the Will after SIGKILL", async () => {
    const { mqttUrl } = sharedServices();
    const host = uniqueName("node-");
    const retained = async (): Promise<string | undefined> => {
      const { messages, client } = await listen(mqttUrl, statusTopic(host));
      await new Promise((r) => setTimeout(r, 300));
      await client.endAsync();
      const last = messages.filter((m) => m.retain).at(-1);
      return last ? statusOf(last).status : undefined;
    };

    const graceful = spawnAgent(["--broker", mqttUrl, "--host", host, "--interval", "1"]);
    agents.push(graceful);
    await waitFor("retained online", async () => (await retained()) === "online");
    graceful.child.kill("SIGTERM");
    assert.equal(await graceful.exited, 0);
    assert.equal(await retained(), "offline");

    const crashing = spawnAgent(["--broker", mqttUrl, "--host", host, "--interval", "1"]);
    agents.push(crashing);
    await waitFor("retained online again", async () => (await retained()) === "online");
    crashing.child.kill("SIGKILL");
    await crashing.exited;
    // The broker publishes the Will once it notices the dead connection (a closed socket: at once).
    await waitFor("the Last Will", async () => (await retained()) === "offline");
  });

  it("can be read by a subscriber that is not ours (mosquitto_sub)", async () => {
    const { mqttUrl } = sharedServices();
    const host = uniqueName("node-");
    const agent = spawnAgent(["--broker", mqttUrl, "--host", host, "--interval", "1"]);
    agents.push(agent);
    const port = new URL(mqttUrl).port;
    const { stdout } = await promisify(execFile)("mosquitto_sub", [
      "-h",
      "127.0.0.1",
      "-p",
      port,
      "-v",
      "-q",
      "1",
      "-t",
      `telemetry/v2/${host}/load`,
      "-C",
      "2",
      "-W",
      "20",
    ]);
    const lines = stdout.trim().split("\n");
    assert.equal(lines.length, 2);
    for (const line of lines) {
      const space = line.indexOf(" ");
      const decoded = decodeMessage(line.slice(0, space), line.slice(space + 1));
      assert.ok(decoded.ok && decoded.kind === "load");
    }
    agent.child.kill("SIGTERM");
    await agent.exited;
  });
});

describe("telemetry-agent during a broker outage", () => {
  let broker: MosquittoService;
  const agents: AgentProcess[] = [];
  before(async () => {
    broker = await MosquittoService.start();
  });
  after(async () => {
    for (const a of agents) a.child.kill("SIGKILL");
    await broker.process.stop();
  });

  it("delivers the samples buffered while the broker was down, oldest first", async () => {
    const host = uniqueName("node-");
    const agent = spawnAgent(["--broker", broker.url, "--host", host, "--interval", "1"]);
    agents.push(agent);
    const first = await listen(broker.url, `telemetry/v2/${host}/cpu`);
    await waitFor("a first sample", () => first.messages.length >= 1);
    await first.client.endAsync();
    await broker.process.stop();
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, 4000));
    const restartedAt = Date.now();
    // A persistent listener session would also work; a fresh subscriber before the agent reconnects is simpler.
    await broker.process.start();
    const after = await listen(broker.url, `telemetry/v2/${host}/cpu`);
    await waitFor(
      "samples from the outage",
      () =>
        after.messages.some((m) => {
          const t = Date.parse((JSON.parse(m.payload) as { "@timestamp": string })["@timestamp"]);
          return t > stoppedAt && t < restartedAt;
        }),
      60_000,
    );
    await waitFor("a few more", () => after.messages.length >= 4, 60_000);
    const stamps = after.messages.map((m) =>
      Date.parse((JSON.parse(m.payload) as { "@timestamp": string })["@timestamp"]),
    );
    assert.deepEqual(
      stamps,
      [...stamps].sort((a, b) => a - b),
      "oldest first",
    );
    assert.ok(
      stamps.filter((t) => t > stoppedAt && t < restartedAt).length >= 3,
      "samples from the outage arrived",
    );
    await after.client.endAsync();
  });

  it("with a tiny buffer drops the oldest samples and reports how many in its status", async () => {
    const host = uniqueName("node-");
    const agent = spawnAgent([
      "--broker",
      broker.url,
      "--host",
      host,
      "--interval",
      "1",
      "--buffer-max-messages",
      "2",
    ]);
    agents.push(agent);
    const watch = await listen(broker.url, statusTopic(host));
    await waitFor("online", () => watch.messages.some((m) => statusOf(m).status === "online"));
    await watch.client.endAsync();
    await broker.process.stop();
    await new Promise((r) => setTimeout(r, 4000));
    await broker.process.start();
    const back = await listen(broker.url, statusTopic(host));
    await waitFor(
      "a status with drops",
      () => back.messages.some((m) => statusOf(m).buffer.dropped > 0),
      60_000,
    );
    await back.client.endAsync();
  });
});
