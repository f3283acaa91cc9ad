// The floor under any ingest's CPU per message: a subscriber like the ingest's (MQTT 5, QoS 1,
// Receive Maximum 1000) that does nothing but acknowledge. Like the ingest, it sends its PUBACKs
// in one write per 5 ms, not one per message, so the floor is not raised by system calls the
// ingest does not make. Run by bench:capacity beside the real pipeline:
//   node --import tsx acknowledge-only.ts <broker url> <client id>
import mqtt from "mqtt";
import { SUBSCRIPTION } from "@cluster-telemetry/contract";

const ACK_WINDOW_MS = 5;

const [url, clientId] = process.argv.slice(2);
if (!url || !clientId) {
  console.error("usage: acknowledge-only.ts <broker url> <client id>");
  process.exit(2);
}
let received = 0;
let corked = false;
const client = mqtt.connect(url, {
  clientId,
  protocolVersion: 5,
  // No session left behind at the broker once the measurement is over.
  clean: true,
  properties: { receiveMaximum: 1000 },
  log: () => undefined,
});
client.handleMessage = (_packet, done) => {
  received += 1;
  // PUBACKs written while the socket is corked leave together when it is uncorked.
  if (!corked) {
    corked = true;
    client.stream.cork();
    setTimeout(() => {
      corked = false;
      client.stream.uncork();
    }, ACK_WINDOW_MS);
  }
  done();
};
client.on("connect", () => {
  client.subscribe(SUBSCRIPTION, { qos: 1, rh: 1 }, (error) => {
    if (error) console.error(`subscribe failed: ${error.message}`);
    else console.log(JSON.stringify({ event: "subscribed" }));
  });
});
client.on("error", (error) => console.error(error.message));
setInterval(() => console.log(JSON.stringify({ received })), 250);
process.on("SIGTERM", () => client.end(true, () => process.exit(0)));
