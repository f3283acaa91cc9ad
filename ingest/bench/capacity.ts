// npm run bench:capacity [-- --step-seconds 20 --start-hosts 500 --max-hosts 32000 --warmup-docs 400000
//                           --pair-seconds 30 --rounds 4 --latency-seconds 25 --disk-docs 200000]
//
// Ramps a simulated fleet (1 s interval) until the pipeline MQTT → ingest → Redis → Elasticsearch
// no longer keeps up, then, on the same services in the same run: the rate of bulk-indexing the
// same documents straight into Elasticsearch (the ceiling), latency at 50% and 90% of the sustained
// rate, Redis memory per queued sample, CPU per message of every process, and the floor under that
// (the broker with a subscriber that only acknowledges). Every document the broker acknowledged must
// be indexed exactly once: the run fails otherwise.
import { writeFileSync, mkdirSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import mqtt from "mqtt";
import { sample, sampleTopic } from "@cluster-telemetry/contract";
import { dataStreamName } from "../src/setup/index-templates.ts";
import { directLoad, storagePerDocument, untilIdle, type Load } from "./direct-load.ts";
import { acknowledgeOnlyFloor } from "./floor.ts";
import {
  build,
  cpuSeconds,
  drained,
  indexedCount,
  machine,
  metric,
  percentile,
  redisCommands,
  redisMemory,
  root,
  rssMb,
  scrape,
  simulate,
  sleep,
  startIngest,
  startServices,
  stopServices,
  type Services,
} from "./rig.ts";

const { values } = parseArgs({
  options: {
    "step-seconds": { type: "string", default: "20" },
    "start-hosts": { type: "string", default: "500" },
    "max-hosts": { type: "string", default: "32000" },
    "warmup-docs": { type: "string", default: "400000" },
    "pair-seconds": { type: "string", default: "30" },
    rounds: { type: "string", default: "4" },
    "latency-seconds": { type: "string", default: "25" },
    "disk-docs": { type: "string", default: "200000" },
    out: { type: "string", default: join(root, "docs", "capacity-results.md") },
  },
});
const stepSeconds = Number(values["step-seconds"]);
const run = Date.now().toString(36);
const namespace = `cap${run}`;

interface Window {
  seconds: number;
  received: number;
  indexed: number;
  depthGrowth: number;
  bulkDocs: number;
  bulks: number;
  redisCalls: number;
  cpu: Record<string, number>;
}

type Pids = Record<string, number | undefined>;

/**
 * Longest a kept-up step may take to index what is left once its fleet stops: the flush interval,
 * a bulk and the 1 s refresh, with room for a merge.
 */
const DRAIN_LIMIT_SECONDS = 5;

async function measureWindow(s: Services, metricsUrl: string, pids: Pids, seconds: number): Promise<Window> {
  const snap = async () => ({
    t: performance.now(),
    m: await scrape(metricsUrl),
    redis: await redisCommands(s.redisClient),
    cpu: Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)])),
  });
  const a = await snap();
  await sleep(seconds * 1000);
  const b = await snap();
  const d = (name: string) => metric(b.m, name) - metric(a.m, name);
  return {
    seconds: (b.t - a.t) / 1000,
    received: d("messages_received_total"),
    indexed: d("documents_indexed_total") + d("documents_duplicate_total"),
    depthGrowth: d("queue_depth"),
    bulkDocs: d("bulk_documents_sum"),
    bulks: d("bulk_documents_count"),
    redisCalls: b.redis - a.redis,
    cpu: Object.fromEntries(Object.keys(pids).map((k) => [k, b.cpu[k]! - a.cpu[k]!])),
  };
}

interface Step {
  hosts: number;
  offered: number;
  received: number;
  indexed: number;
  keptUp: boolean;
  why: string;
  window: Window;
  limit: string;
  cores: string;
}

/**
 * A fleet through the whole pipeline into data streams of their own, charged like the direct
 * loader: Elasticsearch's CPU from the fleet's first message until the node is idle again after the
 * last document. The ingest keeps its MQTT session and Redis keys, so nothing is left queued for an
 * absent subscriber; only its namespace, and with it the data streams, is new.
 */
async function throughPipeline(
  s: Services,
  label: string,
  hosts: number,
  seconds: number,
  esPid: number | undefined,
): Promise<Load & { acked: number; indexed: number }> {
  const ns = `${namespace}${label}`;
  const ingest = await startIngest(s, ns, {
    MQTT_CLIENT_ID: `ingest-${namespace}`,
    INGEST_REDIS_PREFIX: namespace,
  });
  await untilIdle(esPid);
  const cpu0 = cpuSeconds(esPid);
  const t0 = performance.now();
  const fleet = simulate(s.broker.url, { hosts, seconds, prefix: `${label}-${run}`, seed: hosts + 1 });
  const summary = await fleet.summary;
  // The ingest's own counter, not Elasticsearch's: polling the node would bill it for our questions.
  const indexedByIngest = async () => {
    const m = await scrape(ingest.metricsUrl);
    return metric(m, "documents_indexed_total") + metric(m, "documents_duplicate_total");
  };
  const deadline = Date.now() + 300_000;
  while ((await indexedByIngest()) < summary.acked && Date.now() < deadline) await sleep(200);
  const elapsed = (performance.now() - t0) / 1000;
  await untilIdle(esPid);
  const esCpu = cpuSeconds(esPid) - cpu0;
  ingest.child.kill("SIGTERM");
  await new Promise((r) => ingest.child.once("exit", r));
  const indexed = await indexedCount(s.es, ns);
  return { docs: summary.acked, perSecond: summary.acked / elapsed, esCpu, acked: summary.acked, indexed };
}

/** Publish-to-searchable latency of probe samples sent while a fleet loads the pipeline. */
async function latencyUnder(s: Services, hosts: number, seconds: number, seed: number) {
  const fleet = simulate(s.broker.url, { hosts, seconds, prefix: `lat${seed}-${run}`, seed });
  const probeHost = `probe${seed}-${run}`;
  const probe = await mqtt.connectAsync(s.broker.url, {
    clientId: `probe-${run}-${seed}`,
    protocolVersion: 5,
  });
  const index = dataStreamName("load", namespace);
  const latencies: number[] = [];
  let lastSeen = "";
  let sent = 0;
  const poller = setInterval(() => {
    const polledAt = Date.now();
    void s.es
      .search<{ "@timestamp": string }>({
        index,
        size: 500,
        _source: ["@timestamp"],
        query: {
          bool: {
            filter: [
              { term: { "host.name": probeHost } },
              ...(lastSeen ? [{ range: { "@timestamp": { gt: lastSeen } } }] : []),
            ],
          },
        },
        sort: [{ "@timestamp": "asc" }],
      })
      .then(
        (r) => {
          for (const hit of r.hits.hits) {
            const ts = hit._source!["@timestamp"];
            if (ts > lastSeen) {
              lastSeen = ts;
              latencies.push(polledAt - Date.parse(ts));
            }
          }
        },
        () => undefined,
      );
  }, 50);
  await sleep(3000); // past the fleet's start
  const until = Date.now() + (seconds - 5) * 1000;
  while (Date.now() < until) {
    const now = Date.now();
    const payload = JSON.stringify(
      sample(
        "load",
        {
          host: { name: probeHost, architecture: "x64" },
          agent: { type: "telemetry-probe", version: "bench" },
          periodMs: 10_000,
        },
        { "1": 1, "5": 1, "15": 1, cores: 2, norm: { "1": 0.5, "5": 0.5, "15": 0.5 } },
        now,
      ),
    );
    await probe.publishAsync(sampleTopic(probeHost, "load"), payload, { qos: 1 });
    sent += 1;
    await sleep(100);
  }
  const summary = await fleet.summary;
  await sleep(3000);
  clearInterval(poller);
  await probe.endAsync();
  latencies.sort((a, b) => a - b);
  return {
    sent,
    acked: summary.acked,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    seen: latencies.length,
  };
}

async function main(): Promise<void> {
  console.log(`bench:capacity on ${machine()}`);
  build();
  const s = await startServices();
  const ingest = await startIngest(s, namespace);
  const pids: Pids = {
    ingest: ingest.child.pid,
    broker: s.broker.process.pid,
    redis: s.redis.process.pid,
    elasticsearch: s.elasticsearch.process.pid,
  };
  // A fresh JVM spends its first minutes compiling Elasticsearch's indexing code: measured cold, the
  // ramp would cost two to three times the CPU per document that the same documents cost later.
  // Warm it up first, so the pipeline and the direct loader meet the same warm node.
  await directLoad(s, Number(values["warmup-docs"]), pids.elasticsearch, `warmup${run}`);
  let expected = 0; // every message the broker acknowledged to a publisher
  const steps: Step[] = [];

  // 1. The ramp: double the fleet until the pipeline falls behind, then try once halfway between
  // the last step that kept up and the first that did not (doubling overshoots by up to 2×).
  const rampStep = async (hosts: number): Promise<Step> => {
    const fleet = simulate(s.broker.url, {
      hosts,
      seconds: stepSeconds,
      prefix: `r${hosts}-${run}`,
      seed: hosts,
    });
    pids.simulator = fleet.child.pid;
    await sleep(4000); // connections up, first intervals out
    const window = await measureWindow(s, ingest.metricsUrl, pids, stepSeconds - 7);
    const summary = await fleet.summary;
    delete pids.simulator;
    expected += summary.acked;
    const offered = summary.ackedPerSecond;
    const received = window.received / window.seconds;
    const indexed = window.indexed / window.seconds;
    const busy = Object.entries(window.cpu)
      .map(([name, cpu]) => [name, cpu / window.seconds] as const)
      .sort((a, b) => b[1] - a[1]);
    const total = busy.reduce((n, [, c]) => n + c, 0);
    const cores = `${busy.map(([name, c]) => `${name} ${Math.round(c * 100)}%`).join(", ")} of ${cpus().length} cores`;
    // A short window can miss a backlog building up behind Elasticsearch's merges; what is left to
    // index once the fleet has stopped cannot hide.
    const stopped = performance.now();
    const count = await drained(s, ingest.metricsUrl, namespace, expected);
    if (count !== expected)
      throw new Error(`after step ${hosts}: ${count} documents indexed, ${expected} acknowledged`);
    const drainSeconds = (performance.now() - stopped) / 1000;
    const behind =
      summary.limit.startsWith("nothing") === false ||
      received < offered * 0.95 ||
      window.depthGrowth > received ||
      drainSeconds > DRAIN_LIMIT_SECONDS;
    const why = !behind
      ? ""
      : total > cpus().length * 0.9
        ? `the machine's CPU (${cores})`
        : summary.limit.startsWith("nothing") === false
          ? `the load generator: ${summary.limit}`
          : received < offered * 0.95
            ? `intake: the ingest received ${Math.round(received)}/s of ${Math.round(offered)}/s published (broker queue growing)`
            : window.depthGrowth > received
              ? `indexing: the queue grew by ${Math.round(window.depthGrowth)} documents (Elasticsearch bulk slower than intake)`
              : drainSeconds > DRAIN_LIMIT_SECONDS
                ? `indexing: ${drainSeconds.toFixed(0)} s to index the backlog once the fleet stopped (Elasticsearch behind the intake)`
                : "";
    steps.push({
      hosts,
      offered,
      received,
      indexed,
      keptUp: why === "",
      why,
      window,
      limit: summary.limit,
      cores,
    });
    console.log(
      `step ${hosts} hosts: published ${Math.round(offered)}/s, ingest received ${Math.round(received)}/s, indexed ${Math.round(indexed)}/s, backlog indexed ${drainSeconds.toFixed(1)} s after the fleet stopped${why ? ` — behind: ${why}` : ""}`,
    );
    return steps.at(-1)!;
  };
  for (let hosts = Number(values["start-hosts"]); hosts <= Number(values["max-hosts"]); hosts *= 2)
    if (!(await rampStep(hosts)).keptUp) break;
  const lastKept = steps.filter((x) => x.keptUp).at(-1);
  const firstBehind = steps.find((x) => !x.keptUp);
  if (lastKept && firstBehind) await rampStep(Math.round((lastKept.hosts + firstBehind.hosts) / 2));
  steps.sort((a, b) => a.hosts - b.hosts);
  const kept = steps.filter((x) => x.keptUp);
  const best = kept.at(-1) ?? steps[0]!;
  const saturated = steps.find((x) => !x.keptUp);
  // What the whole pipeline carried: a window can index a little of what arrived before it.
  const sustained = Math.min(best.received, best.indexed);

  // 2. Latency at 50% and 90% of the sustained rate.
  const perHost = best.offered / best.hosts;
  const latency = [];
  for (const share of [0.5, 0.9]) {
    const hosts = Math.max(1, Math.round((sustained * share) / perHost));
    const l = await latencyUnder(s, hosts, Number(values["latency-seconds"]), Math.round(share * 100));
    expected += l.acked + l.sent;
    latency.push({ share, rate: Math.round(hosts * perHost), ...l });
    await drained(s, ingest.metricsUrl, namespace, expected);
  }

  // 3. Redis memory per queued sample: Elasticsearch stops answering while a fleet keeps sending.
  const queueFleet = simulate(s.broker.url, {
    // At least one host: a machine too busy to sustain anything still gets its figure measured.
    hosts: Math.max(1, Math.round((sustained * 0.5) / perHost)),
    seconds: 12,
    prefix: `q-${run}`,
    seed: 3,
  });
  await sleep(3000);
  const mem0 = await redisMemory(s.redisClient);
  const depth0 = metric(await scrape(ingest.metricsUrl), "queue_depth");
  s.elasticsearch.process.pause();
  await sleep(6000);
  const mem1 = await redisMemory(s.redisClient);
  const depth1 = metric(await scrape(ingest.metricsUrl), "queue_depth");
  s.elasticsearch.process.resume();
  expected += (await queueFleet.summary).acked;
  const bytesPerQueued = (mem1 - mem0) / Math.max(1, depth1 - depth0);
  const final = await drained(s, ingest.metricsUrl, namespace, expected);

  const ingestRss = rssMb(pids.ingest);
  ingest.child.kill("SIGTERM");
  await new Promise((r) => ingest.child.once("exit", r));

  // 4. The ceiling: the same kind and number of documents, straight into the same Elasticsearch.
  const sameDocs = Math.max(100_000, Math.round(best.window.indexed));
  const direct = await directLoad(s, sameDocs, pids.elasticsearch, `direct${run}`);

  // 5. Efficiency: Elasticsearch CPU per document through the pipeline and straight in, at the same
  // rate (70% of sustained, where the pipeline keeps up), about the same number of documents, fresh
  // data streams each. Rounds alternate which goes first (P D, D P, …): merges and JIT make a single
  // pair noisy, and neither side may always meet the warmer node.
  const pairSeconds = Number(values["pair-seconds"]);
  const pairHosts = Math.max(1, Math.round((sustained * 0.7) / perHost));
  const pairs: { pipeline: Load & { indexed: number }; direct: Load }[] = [];
  let pace: { docs: number; perSecond: number } | undefined;
  for (let round = 1; round <= Number(values.rounds); round++) {
    const viaPipeline = async () => {
      const result = await throughPipeline(s, `p${round}`, pairHosts, pairSeconds, pids.elasticsearch);
      if (result.indexed !== result.acked)
        throw new Error(`pipeline run ${round}: ${result.indexed} indexed, ${result.acked} acknowledged`);
      expected += result.acked;
      pace ??= { docs: result.docs, perSecond: result.perSecond };
      return result;
    };
    const viaLoader = () =>
      directLoad(s, pace!.docs, pids.elasticsearch, `paced${round}${run}`, pace!.perSecond);
    let pair: (typeof pairs)[number];
    if (round % 2 === 1) {
      const pipeline = await viaPipeline();
      pair = { pipeline, direct: await viaLoader() };
    } else {
      const direct = await viaLoader();
      pair = { pipeline: await viaPipeline(), direct };
    }
    pairs.push(pair);
    console.log(
      `efficiency round ${round}: pipeline ${pair.pipeline.docs} docs in ${pair.pipeline.esCpu.toFixed(1)} ES CPU-s, direct ${pair.direct.docs} in ${pair.direct.esCpu.toFixed(1)}`,
    );
  }
  const perEsCpu = (loads: Load[]) =>
    loads.reduce((n, l) => n + l.docs, 0) /
    Math.max(
      0.001,
      loads.reduce((n, l) => n + l.esCpu, 0),
    );
  const e2ePerEsCpu = perEsCpu(pairs.map((p) => p.pipeline));
  const pacedPerEsCpu = perEsCpu(pairs.map((p) => p.direct));
  const floor = await acknowledgeOnlyFloor(s, {
    hosts: best.hosts,
    seconds: stepSeconds,
    pipelineClientId: `ingest-${namespace}`,
    name: `floor-${run}`,
  });
  console.log(
    `floor at ${best.hosts} hosts: broker ${floor.broker.toFixed(1)} (kernel ${floor.brokerKernel.toFixed(1)}) + acknowledge-only subscriber ${floor.subscriber.toFixed(1)} µs per message`,
  );
  const disk = await storagePerDocument(s, Number(values["disk-docs"]), run);
  const indexedTotal = final + pairs.reduce((n, p) => n + p.pipeline.indexed, 0);

  // 5. Figures.
  const w = best.window;
  const us = (seconds: number) => (seconds / Math.max(1, w.received)) * 1e6;
  const outside = us(w.cpu.broker! + w.cpu.ingest! + w.cpu.redis!);
  const lines = [
    `# Capacity benchmark results`,
    ``,
    `Measured by \`npm run bench:capacity\` on ${new Date().toISOString().slice(0, 10)}: ${machine()}. Mosquitto,`,
    `Redis, Elasticsearch (1 node, 2 GB heap), the ingest and the load generator share the machine's cores.`,
    ``,
    `## Ramp (1 s interval, ${stepSeconds} s per step)`,
    ``,
    `| hosts | published msg/s | ingest received/s | indexed docs/s | kept up |`,
    `| ---: | ---: | ---: | ---: | --- |`,
    ...steps.map(
      (x) =>
        `| ${x.hosts} | ${Math.round(x.offered)} | ${Math.round(x.received)} | ${Math.round(x.indexed)} | ${x.keptUp ? "yes" : `no: ${x.why}`} |`,
    ),
    ``,
    `## Headline`,
    ``,
    `| figure | end to end | direct bulk loader | ratio | target |`,
    `| --- | ---: | ---: | ---: | ---: |`,
    `| documents/s (sustained, ${best.hosts} hosts) | ${Math.round(sustained)} | ${Math.round(direct.perSecond)} | ${(sustained / direct.perSecond).toFixed(2)} | as high as the others allow |`,
    `| documents per Elasticsearch CPU-second, at the same rate (${pairHosts} hosts) | ${Math.round(e2ePerEsCpu)} | ${Math.round(pacedPerEsCpu)} | ${(e2ePerEsCpu / pacedPerEsCpu).toFixed(2)} | ≥ 0.9 |`,
    `| CPU µs per message outside Elasticsearch (broker + ingest + Redis) | ${outside.toFixed(1)} | | | ≤ 30 |`,
    `| the floor under it: broker + a subscriber that only acknowledges (${best.hosts} hosts, Elasticsearch idle) | ${floor.total.toFixed(1)} | | | |`,
    ``,
    `Elasticsearch CPU per document is charged from a load's first document until the node is idle`,
    `again (the merges and refreshes a load leaves behind are part of its cost), for ${pairSeconds} s of fleet`,
    `through the pipeline and as many documents at the same rate straight in, each into fresh`,
    `data streams, in ${pairs.length} rounds that alternate which goes first: ${pairs
      .map(
        (p, i) =>
          `round ${i + 1} pipeline ${Math.round(p.pipeline.docs / p.pipeline.esCpu)}, direct ${Math.round(p.direct.docs / p.direct.esCpu)}`,
      )
      .join("; ")} documents per CPU-second.`,
    ``,
    `The floor is the same fleet into the same broker with, in place of the ingest, an MQTT 5 subscriber`,
    `that does nothing but acknowledge, in one write per 5 ms as the ingest does (ingest/bench/acknowledge-only.ts):`,
    `broker ${floor.broker.toFixed(1)} µs per message, ${floor.brokerKernel.toFixed(1)} of them in the kernel (sockets, epoll), and subscriber ${floor.subscriber.toFixed(1)} µs.`,
    `It is measured with Elasticsearch idle, so it is lower than the same work costs beside a busy Elasticsearch.`,
    ``,
    `First stage to saturate: ${saturated ? saturated.why : `none up to ${steps.at(-1)!.hosts} hosts`}.`,
    ``,
    `CPU at the sustained step: ${best.cores}.`,
    ``,
    `## At the sustained step`,
    ``,
    `| figure | value |`,
    `| --- | ---: |`,
    ...Object.entries(w.cpu).map(([k, v]) => `| CPU µs per message, ${k} | ${us(v).toFixed(1)} |`),
    `| ingest CPU, % of one core | ${((w.cpu.ingest! / w.seconds) * 100).toFixed(0)} |`,
    `| ingest resident memory | ${ingestRss.toFixed(0)} MB |`,
    `| Redis commands per message | ${(w.redisCalls / Math.max(1, w.received)).toFixed(3)} |`,
    `| documents per bulk request | ${(w.bulkDocs / Math.max(1, w.bulks)).toFixed(0)} |`,
    `| Redis memory per queued sample | ${Math.round(bytesPerQueued)} bytes |`,
    `| disk per document, merged, standard data stream | ${Math.round(disk.standard)} bytes |`,
    `| disk per document, merged, time series data stream | ${Math.round(disk.time_series)} bytes |`,
    ``,
    `## Publish-to-searchable latency (probe samples every 100 ms, refresh interval 1 s)`,
    ``,
    `| load | msg/s | p50 ms | p99 ms | probes seen |`,
    `| --- | ---: | ---: | ---: | ---: |`,
    ...latency.map(
      (l) =>
        `| ${l.share * 100}% of sustained | ${l.rate} | ${Math.round(l.p50)} | ${Math.round(l.p99)} | ${l.seen}/${l.sent} |`,
    ),
    ``,
    `## Zero loss, zero duplicates`,
    ``,
    `${expected} messages acknowledged by the broker, ${indexedTotal} documents indexed (ids are sample identities, so a duplicate cannot add a document and a loss shows as a shortfall).`,
    ``,
  ];
  const report = lines.join("\n");
  console.log(`\n${report}`);
  mkdirSync(join(root, "docs"), { recursive: true });
  writeFileSync(values.out!, report);
  await stopServices(s);
  if (indexedTotal !== expected) {
    console.error(`LOSS OR DUPLICATES: ${expected} acknowledged, ${indexedTotal} indexed`);
    process.exit(1);
  }
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
