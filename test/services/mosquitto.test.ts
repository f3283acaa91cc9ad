import assert from "node:assert/strict";
import { describe, it } from "node:test";
import mqtt from "mqtt";
import { sharedServices, uniqueName } from "@cluster-telemetry/dev-stack";

describe("the harness's Mosquitto", () => {
  it("delivers a QoS 1 message from a publisher to a subscriber through the mqtt client", async () => {
    const { mqttUrl } = sharedServices();
    const topic = `smoke/${uniqueName("t")}`;
    const subscriber = await mqtt.connectAsync(mqttUrl, { clientId: uniqueName("sub"), protocolVersion: 5 });
    const publisher = await mqtt.connectAsync(mqttUrl, { clientId: uniqueName("pub"), protocolVersion: 5 });
    try {
      const granted = await subscriber.subscribeAsync(topic, { qos: 1 });
      assert.equal(granted[0]?.qos, 1);
      const received = new Promise<[string, Buffer, mqtt.IPublishPacket]>((resolve) =>
        subscriber.once("message", (...args) => resolve(args)),
      );
      const acks: string[] = [];
      publisher.on("packetreceive", (packet) => acks.push(packet.cmd));
      await publisher.publishAsync(topic, "hello", { qos: 1 });
      // A QoS 1 publish resolves once the broker's PUBACK arrived.
      assert.deepEqual(acks, ["puback"]);
      const [gotTopic, payload, packet] = await received;
      assert.equal(gotTopic, topic);
      assert.equal(payload.toString(), "hello");
      assert.equal(packet.qos, 1);
    } finally {
      await Promise.all([subscriber.endAsync(), publisher.endAsync()]);
    }
  });
});
