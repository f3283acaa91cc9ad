import { MqttClient, type Packet } from "mqtt";
import { MqttVersionMismatch } from "./mqtt-version-mismatch.ts";

/**
 * The mqtt.js release whose `_sendPacket` and publish handler this was read against. Every package
 * of the tree pins mqtt to exactly this version (one copy installed), and the ingest refuses to
 * start with any other: see assertPatchableMqtt.
 */
export const PATCHED_MQTT_VERSION = "5.16.0";

/** Why `found` (mqtt.js's own MqttClient.VERSION) cannot carry the patch, or undefined when it can. */
export function mqttVersionProblem(
  found: unknown,
  expected: string = PATCHED_MQTT_VERSION,
): MqttVersionMismatch | undefined {
  return found === expected ? undefined : new MqttVersionMismatch(expected, String(found));
}

/** Throws MqttVersionMismatch unless the mqtt.js this process loaded is PATCHED_MQTT_VERSION. */
export function assertPatchableMqtt(): void {
  const problem = mqttVersionProblem((MqttClient as { VERSION?: unknown }).VERSION);
  if (problem) throw problem;
}

/** Sends a held PUBACK, once the message it acknowledges is durable. */
export type HeldAck = () => void;

type SendPacket = (packet: Packet, cb?: () => void, ...rest: unknown[]) => void;

/**
 * Lets the intake hold QoS 1 PUBACKs without holding up the packets behind them.
 *
 * mqtt.js sends a PUBACK when `handleMessage` calls back, and processes the connection's next packet
 * only after that PUBACK is written. Delaying the callback until Redis has the message therefore
 * costs one Redis round trip per message, one message at a time. Instead the intake calls back at
 * once and this catches the PUBACK on its way out (mqtt.js's `_sendPacket`, which its own publish
 * handler calls), lets mqtt.js go on to the next packet, and gives the PUBACK back to the intake,
 * which sends it, in order, after the batch's single Redis write.
 *
 * `_sendPacket` is private, so the version is pinned (PATCHED_MQTT_VERSION) and checked at start.
 * What upstream offers instead, as of mqtt.js 5.16.0, does not do this job:
 * - `handleMessage(packet, callback)` (README: "Handle messages with backpressure support, one at a
 *   time"): the PUBACK goes out when the callback runs, and the next packet waits for it.
 * - `customHandleAcks(topic, message, packet, done)` (client option, MQTT 5 only): chooses the
 *   PUBACK's reason code; the publish handler still calls `handleMessage` and sends the PUBACK with
 *   the packet's `done`, so it is just as serial (src/lib/handlers/publish.ts).
 * - Manual acknowledgement has been asked for (mqttjs/MQTT.js#691, answered with `handleMessage`;
 *   #1299 and #1423 asked for `customHandleAcks` below MQTT 5). The extension point that would
 *   replace this patch is an acknowledgement the application sends itself after `handleMessage` has
 *   called back, e.g. a `manualAcks` option with `client.ack(packet)`, as proposed for rumqtt
 *   (bytebeamio/rumqtt#341, `manual_acks`).
 */
export class HeldAcks {
  private catching: ((ack: HeldAck) => void) | undefined;

  constructor(client: MqttClient) {
    const target = client as unknown as { _sendPacket: SendPacket };
    const send = target._sendPacket.bind(client);
    target._sendPacket = (packet, cb, ...rest) => {
      const catching = this.catching;
      if (packet.cmd === "puback" && catching) {
        this.catching = undefined;
        catching(() => send(packet, undefined, ...rest));
        cb?.();
        return;
      }
      send(packet, cb, ...rest);
    };
  }

  /** Runs `acknowledge` (handleMessage's callback) and returns the PUBACK it would have sent, if any. */
  hold(acknowledge: () => void): HeldAck | undefined {
    let held: HeldAck | undefined;
    this.catching = (ack) => (held = ack);
    acknowledge();
    this.catching = undefined;
    return held;
  }
}
