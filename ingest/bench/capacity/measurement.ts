import { cpuSeconds, metric, redisCommands, scrape, sleep, type Services } from "../rig.ts";

/** What the pipeline did during one measured window, from the ingest's counters, Redis and /proc. */
export interface Window {
  seconds: number;
  received: number;
  indexed: number;
  depthGrowth: number;
  bulkDocs: number;
  bulks: number;
  redisCalls: number;
  /** CPU seconds of each process over the window. */
  cpu: Record<string, number>;
}

/** The processes whose CPU is charged, by role. */
export type Pids = Record<string, number | undefined>;

export async function measureWindow(
  s: Services,
  metricsUrl: string,
  pids: Pids,
  seconds: number,
): Promise<Window> {
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
