import type { MqttClient, Packet } from "mqtt";

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
 * which sends it, in order, after the batch's single Redis write. Checked against mqtt 5.x.
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
