import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import { decodeMessage } from "@cluster-telemetry/contract";
import { INGEST_USER, startSecureBroker, uniqueName, type SecureBroker } from "@cluster-telemetry/dev-stack";
import { spawnAgent, waitFor, type AgentProcess } from "../agent-process.ts";

const secrets = {
  "node-a": "a-password-7f3k",
  "node-b": "b-password-9q2m",
  "node-c": "c-token-one-x81v",
  "node-d": "d-password-55hz",
  [INGEST_USER]: "ingest-password-p0w",
};
const rotatedToken = "c-token-two-k27c";

describe("telemetry-agent against the deployment's secured broker", () => {
  let broker: SecureBroker;
  let ingest: MqttClient;
  const received: { topic: string; payload: string }[] = [];
  const agents: AgentProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), "agent-secrets-"));
  const secretFile = (name: string, value: string) => {
    const path = join(dir, name);
    writeFileSync(path, `${value}\n`, { mode: 0o600 });
    return path;
  };
  const ca = () => join(broker.certsDir, "ca.crt");
  const from = (host: string) => received.filter((m) => m.topic.startsWith(`telemetry/v2/${host}/`));
  const start = (args: string[]) => {
    const agent = spawnAgent(["--interval", "1", ...args], { LOG_LEVEL: "debug" });
    agents.push(agent);
    return agent;
  };

  before(async () => {
    broker = await startSecureBroker(Object.entries(secrets).map(([name, password]) => ({ name, password })));
    ingest = await mqtt.connectAsync(broker.servicesUrl, {
      ca: readFileSync(ca()),
      username: INGEST_USER,
      password: secrets[INGEST_USER],
      clientId: uniqueName("ingest-"),
      protocolVersion: 5,
    });
    ingest.on("message", (topic, payload) => received.push({ topic, payload: payload.toString() }));
    await ingest.subscribeAsync("telemetry/v2/+/+", { qos: 1 });
  });
  after(async () => {
    for (const a of agents) a.child.kill("SIGKILL");
    await ingest?.endAsync(true);
    await broker?.service.process.stop();
  });

  it("publishes over TLS, verifying the broker against the CA, with a password from a file", async () => {
    const agent = start([
      "--broker",
      broker.tlsUrl,
      "--host",
      "node-a",
      "--username",
      "node-a",
      "--password-file",
      secretFile("a.pw", secrets["node-a"]),
      "--ca-file",
      ca(),
    ]);
    await waitFor("cpu, load and memory from node-a", () =>
      ["cpu", "load", "memory"].every((m) => from("node-a").some((x) => x.topic.endsWith(`/${m}`))),
    );
    for (const m of from("node-a")) assert.ok(decodeMessage(m.topic, m.payload).ok, m.topic);
    agent.child.kill("SIGTERM");
    assert.equal(await agent.exited, 0);
  });

  it("publishes over mutual TLS with a client certificate and no password", async () => {
    start([
      "--broker",
      broker.mutualTlsUrl,
      "--host",
      "node-b",
      "--ca-file",
      ca(),
      "--cert-file",
      join(broker.certsDir, "node-b.crt"),
      "--key-file",
      join(broker.certsDir, "node-b.key"),
    ]);
    await waitFor("samples from node-b", () => from("node-b").some((m) => m.topic.endsWith("/load")));
  });

  it("speaks MQTT 3.1.1 as well as 5", async () => {
    const agent = start([
      "--broker",
      broker.tlsUrl,
      "--mqtt-version",
      "4",
      "--host",
      "node-d",
      "--username",
      "node-d",
      "--password-file",
      secretFile("d.pw", secrets["node-d"]),
      "--ca-file",
      ca(),
    ]);
    await waitFor("samples from node-d over 3.1.1", () =>
      from("node-d").some((m) => m.topic.endsWith("/cpu")),
    );
    await waitFor("a retained online status", () =>
      from("node-d").some((m) => m.topic.endsWith("/status") && m.payload.includes('"online"')),
    );
    agent.child.kill("SIGTERM");
    assert.equal(await agent.exited, 0);
  });

  it("reports the broker's refusal (0x87) when it publishes outside its own topics, and nothing gets through", async () => {
    // node-a's credentials, reporting as another host: what a misconfigured or compromised node would do.
    const agent = start([
      "--broker",
      broker.tlsUrl,
      "--host",
      "node-x",
      "--username",
      "node-a",
      "--password-file",
      secretFile("a2.pw", secrets["node-a"]),
      "--ca-file",
      ca(),
    ]);
    await waitFor("the refusal in the agent's log", () =>
      /"event":"publish_refused".*"reasonCode":135/.test(agent.output()),
    );
    agent.child.kill("SIGTERM");
    assert.equal(await agent.exited, 0, "a refusal is reported, not fatal");
    // A marker sent after the agent has gone: anything the broker had let through from node-x
    // would have reached the ingest before it.
    const marker = await mqtt.connectAsync(broker.tlsUrl, {
      ca: readFileSync(ca()),
      username: "node-a",
      password: secrets["node-a"],
      protocolVersion: 5,
    });
    await marker.publishAsync("telemetry/v2/node-a/cpu", "marker", { qos: 1 });
    await marker.endAsync();
    await waitFor("the marker", () => received.some((m) => m.payload === "marker"));
    assert.deepEqual(from("node-x"), [], "a refused publish reached the ingest");
  });

  it("re-reads its token at every reconnect, so a rotated token is used without a restart", async () => {
    const tokenFile = secretFile("c.token", secrets["node-c"]);
    const agent = start([
      "--broker",
      broker.tlsUrl,
      "--host",
      "node-c",
      "--username",
      "node-c",
      "--token-file",
      tokenFile,
      "--ca-file",
      ca(),
    ]);
    await waitFor("samples from node-c", () => from("node-c").length > 0);
    // The token is rotated on both sides, then the broker restarts and drops every connection.
    writeFileSync(tokenFile, rotatedToken);
    broker.setPassword({ name: "node-c", password: rotatedToken });
    await broker.service.restart();
    const afterRestart = received.length;
    await waitFor(
      "samples from node-c after the restart",
      () => received.slice(afterRestart).some((m) => m.topic.startsWith("telemetry/v2/node-c/")),
      30_000,
    );
    assert.equal((agent.output().match(/"event":"broker_connected"/g) ?? []).length >= 2, true);
  });

  it("never writes a password or token to its log", () => {
    const everything = agents.map((a) => a.output()).join("\n");
    assert.ok(everything.length > 0);
    for (const secret of [...Object.values(secrets), rotatedToken])
      assert.ok(!everything.includes(secret), "a secret appeared in the agent's output");
  });
});
