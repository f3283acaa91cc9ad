// npm run bench:ingest [-- --messages 20000]
// End-to-end documents/s (MQTT → ingest → Redis → Elasticsearch searchable) beside a lean loader that
// bulk-indexes the same documents straight into the same Elasticsearch, in one run, with CPU time
// per message of each process and publish-to-searchable latency at half the sustained rate.
import { readFileSync } from "node:fs";
import { execFileSync, spawn } from "node:child_process";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { Client } from "@elastic/elasticsearch";
import mqtt from "mqtt";
import { sample, sampleTopic } from "@cluster-telemetry/contract";
import { buildIndexTemplates, dataStreamName } from "../src/setup/index-templates.ts";
import { up } from "@cluster-telemetry/dev-stack";

const { values } = parseArgs({ options: { messages: { type: "string", default: "20000" } } });
const total = Number(values.messages);
const root = resolve(import.meta.dirname, "..", "..");
const ticks = 100; // USER_HZ on Linux

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}
/** The process listening on a local port (the harness's services), for its CPU time. */
function pidListening(port: string): number {
  const out = execFileSync("ss", ["-ltnpH", `sport = :${port}`], { encoding: "utf8" });
  return Number(/pid=(\d+)/.exec(out)?.[1] ?? 0);
}

const doc = (host: string, seq: number, base: number) =>
  sample(
    "load",
    {
      host: { name: host, architecture: "x64" },
      agent: { type: "telemetry-agent", version: "bench" },
      periodMs: 10_000,
    },
    { "1": 0.5, "5": 0.4, "15": 0.3, cores: 2, norm: { "1": 0.25, "5": 0.2, "15": 0.15 } },
    base + seq,
  );

async function main(): Promise<void> {
  const services = await up();
  const url = (name: string) => services.find((s) => s.name === name)!.url;
  const es = new Client({ node: url("elasticsearch"), requestTimeout: 60_000 });
  const pids = {
    broker: pidListening(new URL(url("mosquitto")).port),
    redis: pidListening(new URL(url("redis")).port),
    elasticsearch: pidListening(new URL(url("elasticsearch")).port),
  };
  const run = Date.now().toString(36);
  const hosts = Array.from({ length: 50 }, (_, i) => `bench-${run}-${i}`);
  const base = Date.now() - 3_600_000;

  // 1. The ceiling: a lean loader, bulks of 1000 straight into Elasticsearch.
  const directNs = `direct${run}`;
  for (const t of buildIndexTemplates({ namespace: directNs }))
    await es.indices.putIndexTemplate({ name: t.name, ...t.body });
  const esCpu0 = cpuSeconds(pids.elasticsearch);
  const d0 = performance.now();
  for (let from = 0; from < total; from += 1000) {
    const operations = [];
    for (let seq = from; seq < Math.min(total, from + 1000); seq++) {
      operations.push(
        { create: { _index: dataStreamName("load", directNs) } },
        doc(hosts[seq % hosts.length]!, seq, base),
      );
    }
    await es.bulk({ operations });
  }
  await es.indices.refresh({ index: dataStreamName("load", directNs) });
  const directSeconds = (performance.now() - d0) / 1000;
  const directEsCpu = cpuSeconds(pids.elasticsearch) - esCpu0;

  // 2. End to end through the ingest.
  const ns = `e2e${run}`;
  const ingest = spawn(process.execPath, ["--import", "tsx", "ingest/src/main.ts", "--http-port", "0"], {
    cwd: root,
    env: {
      ...process.env,
      MQTT_URL: url("mosquitto"),
      REDIS_URL: url("redis"),
      ELASTICSEARCH_URL: url("elasticsearch"),
      INGEST_NAMESPACE: ns,
      INGEST_REDIS_PREFIX: ns,
      MQTT_CLIENT_ID: `bench-${ns}`,
      LOG_LEVEL: "warn",
      INGEST_FLUSH_INTERVAL: "250",
    },
    stdio: "ignore",
  });
  await new Promise((r) => setTimeout(r, 3000));
  const client = await mqtt.connectAsync(url("mosquitto"), {
    clientId: `bench-pub-${run}`,
    protocolVersion: 5,
  });
  const index = dataStreamName("load", ns);
  const count = async () => (await es.count({ index }).catch(() => ({ count: 0 }))).count;
  const cpu0 = {
    ingest: cpuSeconds(ingest.pid!),
    broker: cpuSeconds(pids.broker),
    redis: cpuSeconds(pids.redis),
    es: cpuSeconds(pids.elasticsearch),
  };
  const e0 = performance.now();
  const window = 500;
  for (let from = 0; from < total; from += window) {
    const sends = [];
    for (let seq = from; seq < Math.min(total, from + window); seq++) {
      const host = hosts[seq % hosts.length]!;
      sends.push(
        client.publishAsync(sampleTopic(host, "load"), JSON.stringify(doc(host, seq, base)), { qos: 1 }),
      );
    }
    await Promise.all(sends);
  }
  while ((await count()) < total) await new Promise((r) => setTimeout(r, 100));
  const e2eSeconds = (performance.now() - e0) / 1000;
  const cpu = {
    ingest: cpuSeconds(ingest.pid!) - cpu0.ingest,
    broker: cpuSeconds(pids.broker) - cpu0.broker,
    redis: cpuSeconds(pids.redis) - cpu0.redis,
    es: cpuSeconds(pids.elasticsearch) - cpu0.es,
  };

  // 3. Latency at half the sustained rate, for 10 s.
  const rate = total / e2eSeconds / 2;
  const latencyNs = index;
  const start = await count();
  const sentAt: number[] = [];
  const latencies: number[] = [];
  const n = Math.floor(rate * 10);
  const t0 = performance.now();
  let seen = start;
  const poller = setInterval(() => {
    void count().then((c) => {
      const now = performance.now();
      for (let k = seen; k < c; k++)
        if (sentAt[k - start] !== undefined) latencies.push(now - sentAt[k - start]!);
      seen = Math.max(seen, c);
    });
  }, 20);
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const seq = total + i;
    const host = hosts[seq % hosts.length]!;
    sentAt.push(performance.now());
    void client.publishAsync(sampleTopic(host, "load"), JSON.stringify(doc(host, seq, base)), { qos: 1 });
  }
  while (seen < start + n) await new Promise((r) => setTimeout(r, 50));
  clearInterval(poller);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))]!.toFixed(0);

  const directRate = total / directSeconds;
  const e2eRate = total / e2eSeconds;
  const perMessage = (s: number) => ((s / total) * 1e6).toFixed(1);
  console.log(
    `messages: ${total} (load samples from ${hosts.length} hosts), latency window: ${n} at ${rate.toFixed(0)}/s into ${latencyNs}`,
  );
  console.log("");
  console.log("| figure | end to end | direct bulk loader | ratio |");
  console.log("| --- | ---: | ---: | ---: |");
  console.log(
    `| documents/s | ${e2eRate.toFixed(0)} | ${directRate.toFixed(0)} | ${(e2eRate / directRate).toFixed(2)} |`,
  );
  console.log(
    `| documents per Elasticsearch CPU-second | ${(total / cpu.es).toFixed(0)} | ${(total / directEsCpu).toFixed(0)} | ${(total / cpu.es / (total / directEsCpu)).toFixed(2)} |`,
  );
  console.log("");
  console.log("| process | CPU µs per message (end to end) |");
  console.log("| --- | ---: |");
  for (const [name, seconds] of Object.entries(cpu)) console.log(`| ${name} | ${perMessage(seconds)} |`);
  console.log(
    `| outside Elasticsearch (broker + ingest + Redis) | ${perMessage(cpu.broker + cpu.ingest + cpu.redis)} |`,
  );
  console.log("");
  console.log(
    `publish-to-searchable latency at ${rate.toFixed(0)} msg/s: p50 ${pct(50)} ms, p99 ${pct(99)} ms`,
  );
  ingest.kill("SIGTERM");
  await client.endAsync();
  await es.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
