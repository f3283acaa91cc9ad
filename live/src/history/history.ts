import { readFileSync } from "node:fs";
import { Client } from "@elastic/elasticsearch";
import type { Logger } from "pino";
import type { LiveConfig } from "../config/live-config.ts";
import { COLUMNS } from "../state/columns.ts";
import type { Fleet } from "../state/fleet.ts";
import { dataStreamFor } from "@cluster-telemetry/contract";

/** The resolution of the history: sparklines 120 points wide show 15 minutes at 7.5 s a point. */
export const HISTORY_BUCKET_SECONDS = 10;
/** Composite aggregation page: host × bucket pairs per request. */
const PAGE = 10_000;

type Bucket = { key: { host: string; t: number }; v: { value: number | null } };

/**
 * Fills the fleet's rings with the last `windowMinutes` from Elasticsearch, one composite
 * aggregation per column (host × 10 s bucket → average of the headline field), so that after a
 * restart of this program the page is not empty. Read-only: a search on the metric data streams.
 * Failures are logged with the back end's answer and leave the live data to fill the rings.
 */
export async function loadHistory(
  config: NonNullable<LiveConfig["elasticsearch"]>,
  fleet: Fleet,
  windowMinutes: number,
  log: Logger,
): Promise<{ points: number; hosts: number }> {
  const client = new Client({
    node: config.url,
    requestTimeout: 15_000,
    ...(config.apiKey ? { auth: { apiKey: config.apiKey } } : {}),
    ...(config.caFile ? { tls: { ca: readFileSync(config.caFile) } } : {}),
  });
  const hosts = new Set<string>();
  let points = 0;
  const now = Date.now();
  try {
    for (let column = 0; column < COLUMNS.length; column++) {
      const { metric, path } = COLUMNS[column]!;
      const index = dataStreamFor(metric, config.namespace);
      let after: Record<string, string | number> | undefined;
      let host: string | undefined;
      let times: number[] = [];
      let values: number[] = [];
      const flush = () => {
        if (host !== undefined) fleet.applyHistory(host, column, times, values, now);
        times = [];
        values = [];
      };
      for (;;) {
        const response = await client.search({
          index,
          size: 0,
          ignore_unavailable: true,
          allow_no_indices: true,
          query: { range: { "@timestamp": { gte: `now-${windowMinutes}m` } } },
          aggregations: {
            series: {
              composite: {
                size: PAGE,
                sources: [
                  { host: { terms: { field: "host.name" } } },
                  {
                    t: {
                      date_histogram: { field: "@timestamp", fixed_interval: `${HISTORY_BUCKET_SECONDS}s` },
                    },
                  },
                ],
                ...(after ? { after } : {}),
              },
              aggregations: { v: { avg: { field: `system.${metric}.${path.join(".")}` } } },
            },
          },
        });
        const series = response.aggregations?.series as
          { buckets: Bucket[]; after_key?: Record<string, string | number> } | undefined;
        const buckets = series?.buckets ?? [];
        for (const b of buckets) {
          if (b.v.value === null) continue;
          if (b.key.host !== host) {
            flush();
            host = b.key.host;
            hosts.add(host);
          }
          // A bucket's point is stamped at its end, where its last sample was.
          times.push(Math.floor(b.key.t / 1000) + HISTORY_BUCKET_SECONDS - 1);
          values.push(b.v.value);
          points++;
        }
        if (buckets.length < PAGE || !series?.after_key) break;
        after = series.after_key;
      }
      flush();
    }
    log.info({ event: "history_loaded", hosts: hosts.size, points }, "history loaded from Elasticsearch");
  } catch (error) {
    log.error(
      { event: "history_failed", backend: "elasticsearch", url: config.url, err: (error as Error).message },
      "could not load the history from Elasticsearch; sparklines fill from live samples",
    );
  } finally {
    await client.close();
  }
  return { points, hosts: hosts.size };
}
