// npm run soak [-- --minutes 5 --hosts 2000 --gap 10]
//
// A simulated fleet at about half the measured capacity (ingest/docs/capacity-results.md) for M minutes,
// while the ingest, Redis, the broker and Elasticsearch are killed and restarted one at a time at
// random moments. At the end every sample the broker acknowledged must be indexed exactly once;
// the run exits 1 otherwise.
//
// The ingest, Redis and Elasticsearch get SIGKILL (a crash). The broker gets SIGTERM and a restart:
// Mosquitto keeps its store in memory and saves it every 2 s at most (deploy/mosquitto), so a crash
// of the broker itself loses what arrived since the last save; that window is the deployment's,
// documented in ingest/docs/capacity.md, and not something the soak can assert away.
import { parseArgs } from "node:util";
import {
  build,
  drained,
  machine,
  metric,
  scrape,
  simulate,
  sleep,
  startIngest,
  startServices,
  stopServices,
  type RunningIngest,
  type Services,
} from "./rig.ts";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "5" },
    hosts: { type: "string", default: "2000" },
    seed: { type: "string", default: String(Date.now() % 100_000) },
    /** Seconds between one restart and the next kill: a random wait between gap and 3 × gap. */
    gap: { type: "string", default: "10" },
  },
});
const minutes = Number(values.minutes);
const hosts = Number(values.hosts);
const run = Date.now().toString(36);
const namespace = `soak${run}`;

let seed = Number(values.seed);
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};

type Victim = "ingest" | "redis" | "broker" | "elasticsearch";

async function main(): Promise<void> {
  console.log(
    `soak on ${machine()}: ${hosts} hosts at a 1 s interval for ${minutes} min, seed ${values.seed}`,
  );
  build();
  const s: Services = await startServices();
  let ingest: RunningIngest = await startIngest(s, namespace);
  const fleet = simulate(s.broker.url, { hosts, seconds: minutes * 60, prefix: `soak-${run}`, seed: 11 });
  const started = Date.now();
  const end = started + minutes * 60_000;
  const events: string[] = [];
  const log = (line: string) => {
    const text = `${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s  ${line}`;
    events.push(text);
    console.log(text);
  };

  // Every victim once, in a random order (even if that outlasts the fleet), then random picks while
  // the fleet has more than 45 s to go.
  const gap = Number(values.gap) * 1000;
  const order: Victim[] = ["ingest", "redis", "broker", "elasticsearch"].sort(
    () => random() - 0.5,
  ) as Victim[];
  let next = 0;
  while (next < order.length || Date.now() < end - 45_000) {
    await sleep(gap + random() * 2 * gap);
    if (next >= order.length && Date.now() >= end - 45_000) break;
    const victim = order[next++] ?? order[Math.floor(random() * order.length)]!;
    const down = 2000 + random() * 6000;
    const m = await scrape(ingest.metricsUrl);
    log(`${victim} down for ${(down / 1000).toFixed(1)} s (queue depth ${metric(m, "queue_depth")})`);
    switch (victim) {
      case "ingest":
        ingest.child.kill("SIGKILL");
        await sleep(down);
        ingest = await startIngest(s, namespace);
        break;
      case "redis":
        await s.redis.process.kill();
        await sleep(down);
        await s.redis.process.start();
        break;
      case "broker":
        await s.broker.process.stop();
        await sleep(down);
        await s.broker.process.start();
        break;
      case "elasticsearch":
        await s.elasticsearch.process.kill();
        await sleep(down);
        await s.elasticsearch.process.start();
        break;
    }
    log(`${victim} back`);
  }

  const summary = await fleet.summary;
  log(
    `fleet done: published ${summary.published}, acked ${summary.acked}, failed ${summary.failed}, pending ${summary.pending}`,
  );
  // Documents, not messages: a per-entity sample is one document per entity.
  const documents = summary.ackedDocuments;
  const indexed = await drained(s, ingest.metricsUrl, namespace, documents, 600_000);
  const m = await scrape(ingest.metricsUrl);
  const lost = Math.max(0, documents - indexed);
  const extra = Math.max(0, indexed - documents);
  console.log("");
  console.log("| figure | count |");
  console.log("| --- | ---: |");
  console.log(`| samples and statuses the broker acknowledged | ${summary.acked} |`);
  console.log(`| documents they make (one per entity) | ${documents} |`);
  console.log(`| documents indexed | ${indexed} |`);
  console.log(`| lost (acknowledged, not indexed) | ${lost} |`);
  console.log(`| extra (indexed more than once, or never acknowledged) | ${extra} |`);
  console.log(
    `| redeliveries caught as duplicates (409) by the last ingest | ${metric(m, "documents_duplicate_total")} |`,
  );
  console.log(`| restarts | ${events.filter((e) => e.endsWith("back")).length} |`);
  ingest.child.kill("SIGTERM");
  await stopServices(s);
  if (lost > 0 || extra > 0 || summary.failed > 0) {
    console.error(`FAILED: ${lost} lost, ${extra} extra, ${summary.failed} refused or dropped by the fleet`);
    process.exit(1);
  }
  console.log("every acknowledged sample indexed exactly once");
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
