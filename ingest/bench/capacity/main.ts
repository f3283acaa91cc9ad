// npm run bench:capacity [-- --step-seconds 20 --start-hosts 500 --max-hosts 32000 --warmup-docs 400000
//                           --pair-seconds 30 --rounds 4 --latency-seconds 25 --disk-docs 200000]
//
// Ramps a simulated fleet (1 s interval) until the pipeline MQTT → ingest → Redis → Elasticsearch
// no longer keeps up, then, on the same services in the same run: the rate of bulk-indexing the
// same documents straight into Elasticsearch (the ceiling), latency at 50% and 90% of the sustained
// rate, Redis memory per queued sample, CPU per message of every process, and the floor under that
// (the broker with a subscriber that only acknowledges). Every document the broker acknowledged must
// be indexed exactly once: the run fails otherwise.
//
//   capacity-options.ts  the command line          ramp.ts          1. the ramp, step by step
//   measurement.ts       one measured window        latency.ts       2. latency under load
//   efficiency.ts        5. pipeline vs direct      capacity-report.ts  the Markdown report
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { directLoad, storagePerDocument } from "../direct-load.ts";
import { acknowledgeOnlyFloor } from "../floor.ts";
import {
  build,
  drained,
  machine,
  metric,
  redisMemory,
  rssMb,
  scrape,
  simulate,
  sleep,
  startIngest,
  startServices,
  stopServices,
  type Services,
} from "../rig.ts";
import { parseCapacityArgs } from "./capacity-options.ts";
import type { CapacityRun } from "./capacity-run.ts";
import { capacityReport } from "./capacity-report.ts";
import { efficiencyPairs } from "./efficiency.ts";
import { latencyUnder } from "./latency.ts";
import type { Pids } from "./measurement.ts";
import { rampUntilBehind } from "./ramp.ts";

/**
 * Redis memory per queued sample: Elasticsearch stops answering while a fleet keeps sending, and
 * what Redis grows by is divided by what the queue grew by.
 */
async function redisBytesPerQueued(
  { s, run }: CapacityRun,
  metricsUrl: string,
  hosts: number,
  acknowledged: { count: number },
): Promise<number> {
  const queueFleet = simulate(s.broker.url, { hosts, seconds: 12, prefix: `q-${run}`, seed: 3 });
  await sleep(3000);
  const mem0 = await redisMemory(s.redisClient);
  const depth0 = metric(await scrape(metricsUrl), "queue_depth");
  s.elasticsearch.process.pause();
  await sleep(6000);
  const mem1 = await redisMemory(s.redisClient);
  const depth1 = metric(await scrape(metricsUrl), "queue_depth");
  s.elasticsearch.process.resume();
  acknowledged.count += (await queueFleet.summary).ackedDocuments;
  return (mem1 - mem0) / Math.max(1, depth1 - depth0);
}

async function main(): Promise<void> {
  const options = parseCapacityArgs(process.argv.slice(2));
  const run = Date.now().toString(36);
  console.log(`bench:capacity on ${machine()}`);
  build();
  const s: Services = await startServices();
  const ctx: CapacityRun = { s, run, namespace: `cap${run}` };
  const ingest = await startIngest(s, ctx.namespace);
  const pids: Pids = {
    ingest: ingest.child.pid,
    broker: s.broker.process.pid,
    redis: s.redis.process.pid,
    elasticsearch: s.elasticsearch.process.pid,
  };
  // A fresh JVM spends its first minutes compiling Elasticsearch's indexing code: measured cold, the
  // ramp would cost two to three times the CPU per document that the same documents cost later.
  // Warm it up first, so the pipeline and the direct loader meet the same warm node.
  await directLoad(s, options.warmupDocs, pids.elasticsearch, `warmup${run}`);
  // The documents of every message the broker acknowledged to a publisher (one per entity).
  const acknowledged = { count: 0 };

  // 1. The ramp.
  const ramp = await rampUntilBehind(ctx, ingest.metricsUrl, pids, options, acknowledged);
  const { best, sustained } = ramp;

  // 2. Latency at 50% and 90% of the sustained rate.
  const perHost = best.offered / best.hosts;
  const latency = [];
  for (const share of [0.5, 0.9]) {
    const hosts = Math.max(1, Math.round((sustained * share) / perHost));
    const l = await latencyUnder(ctx, hosts, options.latencySeconds, Math.round(share * 100));
    acknowledged.count += l.acked + l.sent;
    latency.push({ share, rate: Math.round(hosts * perHost), ...l });
    await drained(s, ingest.metricsUrl, ctx.namespace, acknowledged.count);
  }

  // 3. Redis memory per queued sample. At least one host: a machine too busy to sustain anything
  // still gets its figure measured.
  const queueHosts = Math.max(1, Math.round((sustained * 0.5) / perHost));
  const bytesPerQueued = await redisBytesPerQueued(ctx, ingest.metricsUrl, queueHosts, acknowledged);
  const final = await drained(s, ingest.metricsUrl, ctx.namespace, acknowledged.count);

  const ingestRss = rssMb(pids.ingest);
  ingest.child.kill("SIGTERM");
  await new Promise((r) => ingest.child.once("exit", r));

  // 4. The ceiling: the same kind and number of documents, straight into the same Elasticsearch.
  const sameDocs = Math.max(100_000, Math.round(best.window.indexed));
  const direct = await directLoad(s, sameDocs, pids.elasticsearch, `direct${run}`);

  // 5. Efficiency at 70% of sustained, where the pipeline keeps up.
  const pairHosts = Math.max(1, Math.round((sustained * 0.7) / perHost));
  const pairs = await efficiencyPairs(
    ctx,
    { hosts: pairHosts, seconds: options.pairSeconds, rounds: options.rounds },
    pids.elasticsearch,
    acknowledged,
  );
  const floor = await acknowledgeOnlyFloor(s, {
    hosts: best.hosts,
    seconds: options.stepSeconds,
    pipelineClientId: `ingest-${ctx.namespace}`,
    name: `floor-${run}`,
  });
  console.log(
    `floor at ${best.hosts} hosts: broker ${floor.broker.toFixed(1)} (kernel ${floor.brokerKernel.toFixed(1)}) + acknowledge-only subscriber ${floor.subscriber.toFixed(1)} µs per message`,
  );
  const disk = await storagePerDocument(s, options.diskDocs, run);
  const indexed = final + pairs.reduce((n, p) => n + p.pipeline.indexed, 0);

  const report = capacityReport({
    stepSeconds: options.stepSeconds,
    ramp,
    direct,
    pairHosts,
    pairSeconds: options.pairSeconds,
    pairs,
    floor,
    latency,
    ingestRss,
    bytesPerQueued,
    disk,
    acknowledged: acknowledged.count,
    indexed,
  });
  console.log(`\n${report}`);
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, report);
  await stopServices(s);
  if (indexed !== acknowledged.count) {
    console.error(`LOSS OR DUPLICATES: ${acknowledged.count} acknowledged, ${indexed} indexed`);
    process.exit(1);
  }
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
