// npm run bench:broker-autosave: what Mosquitto's autosave settings cost at the capacity bench's
// message rates, to choose deploy/mosquitto's default. Each setting runs on a fresh broker with the
// deployment's queue limits, a publisher paced at a fixed rate of realistic samples, and the ingest's
// session either online (a subscriber that acknowledges everything) or away (a backlog grows, and
// every save writes all of it). Prints the broker's CPU per message, the rate it sustained, how
// often it saved and how large its store was.
//
//   npm run bench:broker-autosave -- [--seconds 10] [--rates 1200,10000]
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import mqtt, { type MqttClient } from "mqtt";
import { VirtualHost } from "telemetry-agent/simulate";
import { MosquittoService, freePort } from "@cluster-telemetry/dev-stack";
import { cpuSeconds, sleep } from "./rig.ts";

const SETTINGS: Record<string, string> = {
  "every 60 s (before)": "autosave_interval 60",
  "every 1 s": "autosave_interval 1",
  "every 1,000 changes": "autosave_on_changes true\nautosave_interval 1000",
  "every change": "autosave_on_changes true\nautosave_interval 1",
};

interface Run {
  setting: string;
  rate: number;
  ingest: "online" | "away";
  sent: number;
  acknowledged: number;
  brokerUsPerMessage: number;
  saves: number;
  storeMb: number;
}

function config(port: number, dir: string, autosave: string): string {
  return [
    // As root, Mosquitto would switch to the mosquitto user, who cannot write its store here.
    `user ${userInfo().username}`,
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    "persistence true",
    `persistence_location ${join(dir, "data")}/`,
    autosave,
    "max_queued_messages 100000",
    "max_queued_bytes 67108864",
    "max_inflight_messages 1000",
    "log_dest stderr",
    "log_type error",
    "log_type warning",
  ].join("\n");
}

async function subscriber(url: string, online: boolean): Promise<MqttClient | undefined> {
  const client = await mqtt.connectAsync(url, {
    clientId: "telemetry-ingest-1",
    protocolVersion: 5,
    clean: false,
    properties: { sessionExpiryInterval: 3600, receiveMaximum: 1000 },
  });
  await client.subscribeAsync("telemetry/v2/+/+", { qos: 1 });
  if (online) return client;
  await client.endAsync();
  return undefined;
}

async function run(setting: string, rate: number, online: boolean, seconds: number): Promise<Run> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "bench-autosave-"));
  const service = await MosquittoService.start({ port, dir, config: config(port, dir, SETTINGS[setting]!) });
  const store = join(service.dir, "data", "mosquitto.db");
  const ingest = await subscriber(service.url, online);
  const publisher = await mqtt.connectAsync(service.url, { clientId: "bench-fleet", protocolVersion: 5 });
  const hosts = Array.from({ length: 300 }, (_, i) => new VirtualHost(`bench-${i}`, i + 1));
  let sent = 0;
  let acknowledged = 0;
  let saves = 0;
  let lastSave = 0;
  let storeBytes = 0;
  let now = Date.now();
  const startCpu = cpuSeconds(service.process.pid);
  const started = Date.now();
  while (Date.now() - started < seconds * 1000) {
    // Paced by the clock, not by timer ticks, which run late on a busy machine.
    let due = (rate * (Date.now() - started)) / 1000 - sent;
    // A burst of at most 20 ms of messages per turn, so that acknowledgements are read between
    // bursts, and at most a second's worth unacknowledged: past that the broker is not keeping up.
    due = Math.min(due, rate / 50);
    while (due >= 1 && sent - acknowledged < rate) {
      const host = hosts[sent % hosts.length]!;
      const [message] = host.samples(now, 10_000);
      now += 1;
      sent += 1;
      due -= 1;
      publisher.publish(message!.topic, message!.payload, { qos: 1 }, (error) => {
        if (!error) acknowledged += 1;
      });
    }
    try {
      const stat = statSync(store);
      if (stat.mtimeMs !== lastSave) {
        saves += 1;
        lastSave = stat.mtimeMs;
        storeBytes = Math.max(storeBytes, stat.size);
      }
    } catch {
      // Not saved yet.
    }
    await sleep(10);
  }
  const cpu = cpuSeconds(service.process.pid) - startCpu;
  await publisher.endAsync(true);
  await ingest?.endAsync(true);
  await service.process.stop();
  rmSync(dir, { recursive: true, force: true });
  return {
    setting,
    rate,
    ingest: online ? "online" : "away",
    sent,
    acknowledged,
    brokerUsPerMessage: Math.round((cpu / Math.max(acknowledged, 1)) * 1e6 * 10) / 10,
    saves,
    storeMb: Math.round((storeBytes / 1e6) * 10) / 10,
  };
}

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "10" }, rates: { type: "string", default: "1200,10000" } },
});
const seconds = Number(values.seconds);
const rates = values.rates.split(",").map(Number);
const results: Run[] = [];
for (const rate of rates)
  for (const online of [true, false])
    for (const setting of Object.keys(SETTINGS)) {
      const result = await run(setting, rate, online, seconds);
      results.push(result);
      console.log(JSON.stringify(result));
    }
console.table(
  results.map((r) => ({
    setting: r.setting,
    "rate /s": r.rate,
    ingest: r.ingest,
    "acknowledged /s": Math.round(r.acknowledged / seconds),
    "broker µs/msg": r.brokerUsPerMessage,
    saves: r.saves,
    "store MB": r.storeMb,
  })),
);
