// The floor under any ingest's CPU per message: a subscriber like the ingest's (MQTT 5, QoS 1,
// Receive Maximum 1000) that acknowledges every message at once and does nothing else. What the
// broker and this process spend per message, no MQTT ingest built on mqtt.js can spend less than.
// Run by bench:capacity beside the real pipeline: node --import tsx acknowledge-only.ts <url> <client id>
import mqtt from "mqtt";
import { SUBSCRIPTION } from "../../agent/src/contract/index.ts";

const [url, clientId] = process.argv.slice(2);
if (!url || !clientId) {
  console.error("usage: acknowledge-only.ts <broker url> <client id>");
  process.exit(2);
}
let received = 0;
const client = mqtt.connect(url, {
  clientId,
  protocolVersion: 5,
  // No session left behind at the broker once the measurement is over.
  clean: true,
  properties: { receiveMaximum: 1000 },
  log: () => undefined,
});
client.on("connect", () => {
  client.subscribe(SUBSCRIPTION, { qos: 1, rh: 1 }, (error) => {
    if (error) console.error(`subscribe failed: ${error.message}`);
    else console.log(JSON.stringify({ event: "subscribed" }));
  });
});
client.on("message", () => (received += 1));
client.on("error", (error) => console.error(error.message));
setInterval(() => console.log(JSON.stringify({ received })), 250);
process.on("SIGTERM", () => client.end(true, () => process.exit(0)));
