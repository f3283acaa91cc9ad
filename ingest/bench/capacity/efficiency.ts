import { directLoad, untilIdle, type Load } from "../direct-load.ts";
import { cpuSeconds, indexedCount, metric, scrape, simulate, sleep, startIngest } from "../rig.ts";
import type { CapacityRun } from "./capacity-run.ts";

/** One round: the pipeline's load and the direct loader's, at the same rate. */
export interface EfficiencyPair {
  pipeline: Load & { indexed: number };
  direct: Load;
}

/**
 * A fleet through the whole pipeline into data streams of their own, charged like the direct
 * loader: Elasticsearch's CPU from the fleet's first message until the node is idle again after the
 * last document. The ingest keeps its MQTT session and Redis keys, so nothing is left queued for an
 * absent subscriber; only its namespace, and with it the data streams, is new.
 */
async function throughPipeline(
  { s, run, namespace }: CapacityRun,
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
  // Documents, not messages: a per-entity sample is one document per entity.
  const documents = summary.ackedDocuments;
  while ((await indexedByIngest()) < documents && Date.now() < deadline) await sleep(200);
  const elapsed = (performance.now() - t0) / 1000;
  await untilIdle(esPid);
  const esCpu = cpuSeconds(esPid) - cpu0;
  ingest.child.kill("SIGTERM");
  await new Promise((r) => ingest.child.once("exit", r));
  const indexed = await indexedCount(s.es, ns);
  return { docs: documents, perSecond: documents / elapsed, esCpu, acked: documents, indexed };
}

/**
 * Elasticsearch CPU per document through the pipeline and straight in, at the same rate, about the
 * same number of documents, fresh data streams each. Rounds alternate which goes first (P D, D P, …):
 * merges and JIT make a single pair noisy, and neither side may always meet the warmer node.
 */
export async function efficiencyPairs(
  ctx: CapacityRun,
  options: { hosts: number; seconds: number; rounds: number },
  esPid: number | undefined,
  acknowledged: { count: number },
): Promise<EfficiencyPair[]> {
  const pairs: EfficiencyPair[] = [];
  let pace: { docs: number; perSecond: number } | undefined;
  for (let round = 1; round <= options.rounds; round++) {
    const viaPipeline = async () => {
      const result = await throughPipeline(ctx, `p${round}`, options.hosts, options.seconds, esPid);
      if (result.indexed !== result.acked)
        throw new Error(`pipeline run ${round}: ${result.indexed} indexed, ${result.acked} acknowledged`);
      acknowledged.count += result.acked;
      pace ??= { docs: result.docs, perSecond: result.perSecond };
      return result;
    };
    const viaLoader = () => directLoad(ctx.s, pace!.docs, esPid, `paced${round}${ctx.run}`, pace!.perSecond);
    let pair: EfficiencyPair;
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
  return pairs;
}

/** Documents per Elasticsearch CPU-second over several loads. */
export function perEsCpu(loads: Load[]): number {
  return (
    loads.reduce((n, l) => n + l.docs, 0) /
    Math.max(
      0.001,
      loads.reduce((n, l) => n + l.esCpu, 0),
    )
  );
}
