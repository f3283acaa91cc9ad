/**
 * The installed mqtt.js is not the version whose internals HeldAcks was checked against. Thrown at
 * start, before any connection: a patch of a private method that silently stopped catching PUBACKs
 * would acknowledge messages before Redis has them.
 */
export class MqttVersionMismatch extends Error {
  constructor(
    readonly expected: string,
    readonly found: string,
  ) {
    super(
      `mqtt version mismatch: telemetry-ingest holds PUBACKs through mqtt.js ${expected}'s private ` +
        `_sendPacket, but mqtt.js ${found} is installed. Install exactly mqtt@${expected} ` +
        `(npm install --save-exact mqtt@${expected} in the ingest's package, then npm ls mqtt shows one copy), ` +
        `or re-check ingest/src/intake/held-acks.ts against ${found} and move its pin and PATCHED_MQTT_VERSION together.`,
    );
    this.name = "MqttVersionMismatch";
  }
}
