import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import mqtt, { type IClientOptions } from "mqtt";
import { connect, refusal } from "./clients.ts";
import {
  HEALTHCHECK_USER,
  INGEST_USER,
  startSecureBroker,
  type SecureBroker,
} from "@cluster-telemetry/dev-stack";
import { waitFor } from "@cluster-telemetry/dev-stack";

const passwords = {
  "node-a": "a-secret-1",
  [INGEST_USER]: "ingest-secret-1",
  [HEALTHCHECK_USER]: "probe-secret-1",
};

describe("the deployment's broker accounts: each works only on its own listener (deploy/mosquitto)", () => {
  let broker: SecureBroker;
  const ca = () => readFileSync(join(broker.certsDir, "ca.crt"));
  const as = (user: keyof typeof passwords, clientId: string = user): IClientOptions => ({
    ca: ca(),
    username: user,
    password: passwords[user],
    clientId,
  });

  before(async () => {
    broker = await startSecureBroker(
      Object.entries(passwords).map(([name, password]) => ({ name, password })),
    );
  });
  after(async () => {
    await broker?.service.process.stop();
  });

  it("refuses a node's valid password on the services listener, and the ingest's on the nodes' listener", async () => {
    assert.equal(await refusal(broker.tlsUrl, as("node-a")), "", "node-a logs in where nodes do");
    assert.equal(await refusal(broker.servicesUrl, as(INGEST_USER, "telemetry-ingest-9")), "");
    assert.match(
      await refusal(broker.servicesUrl, as("node-a")),
      /Bad User Name or Password|Not authorized/i,
    );
    assert.match(await refusal(broker.tlsUrl, as(INGEST_USER)), /Bad User Name or Password|Not authorized/i);
  });

  it("lets the health check's account in on the loopback listener only", async () => {
    assert.equal(await refusal(broker.plainUrl, { ...as(HEALTHCHECK_USER), ca: undefined }), "");
    for (const url of [broker.tlsUrl, broker.servicesUrl])
      assert.match(
        await refusal(url, as(HEALTHCHECK_USER)),
        /Bad User Name or Password|Not authorized/i,
        url,
      );
  });

  it("keeps the ingest's queued samples when a node tries its client id with a clean start", async () => {
    const ingestId = "telemetry-ingest-1";
    const session: IClientOptions = {
      ...as(INGEST_USER, ingestId),
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
    };
    const first = await connect(broker.servicesUrl, session);
    await first.subscribeAsync("telemetry/v2/+/+", { qos: 1 });
    await first.endAsync();

    const node = await connect(broker.tlsUrl, as("node-a"));
    for (let i = 0; i < 5; i++) await node.publishAsync("telemetry/v2/node-a/cpu", `queued-${i}`, { qos: 1 });
    await node.endAsync();

    // The take-over attempts: on the services listener with the node's password, and on the nodes'
    // listener asking for the ingest's id (there the broker makes the client id the user name).
    assert.notEqual(await refusal(broker.servicesUrl, { ...as("node-a", ingestId), clean: true }), "");
    const renamed = await connect(broker.tlsUrl, { ...as("node-a", ingestId), clean: true });
    await renamed.endAsync();

    const received: string[] = [];
    // Listening before the connection completes: the queue arrives right behind the CONNACK.
    const back = mqtt.connect(broker.servicesUrl, { ...session, protocolVersion: 5, reconnectPeriod: 0 });
    back.on("message", (_topic, payload) => received.push(payload.toString()));
    await waitFor("the 5 queued samples", () => received.length >= 5, 15_000).catch(() => undefined);
    await back.endAsync();
    assert.deepEqual(received.sort(), ["queued-0", "queued-1", "queued-2", "queued-3", "queued-4"]);
  });
});
