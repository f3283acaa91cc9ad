// The floor the agent is compared with: a bare Node.js process that publishes the given messages
// at QoS 1 with mqtt.js every interval and does nothing else (no sampling, no validation, no logs).
// npm run bench:agent bundles it with esbuild like the agent, so both load mqtt.js the same way.
//
//   node bare-publisher.mjs <broker url> <interval ms> <messages file: JSON lines {topic, payload}>
import { readFileSync } from "node:fs";
import mqtt from "mqtt";

const [broker, intervalMs, file] = process.argv.slice(2);
const messages = readFileSync(file!, "utf8")
  .trim()
  .split("\n")
  .map((line) => JSON.parse(line) as { topic: string; payload: unknown });
const client = mqtt.connect(broker!, { clientId: `bare-publisher-${process.pid}`, protocolVersion: 5 });
setInterval(() => {
  for (const m of messages) void client.publishAsync(m.topic, JSON.stringify(m.payload), { qos: 1 });
}, Number(intervalMs));
process.on("SIGTERM", () => process.exit(0));
