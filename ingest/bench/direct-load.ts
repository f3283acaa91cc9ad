// Loads that bypass the pipeline, for bench:capacity: the fleet's kind of documents bulk-indexed
// straight into the same Elasticsearch (the ceiling, and the lean loader the pipeline's efficiency
// is compared with), and the disk a merged document takes in each kind of data stream.
import { deadLetterTemplateFor, decodeMessage, telemetryStreamsPattern } from "@cluster-telemetry/contract";
import { VirtualHost } from "telemetry-agent/simulate";
import { sampleDocuments, type IndexedDocument } from "../src/documents.ts";
import { bulkBody } from "../src/indexer/indexer.ts";
import { buildIndexTemplates } from "../src/setup/index-templates.ts";
import { cpuSeconds, sleep, type Services } from "./rig.ts";

/** Documents as the fleet sends them (the simulator's hosts), for the loads that bypass the pipeline. */
function fleetDocuments(ns: string, total: number, withIds = true): IndexedDocument[][] {
  const hosts = Array.from({ length: 2000 }, (_, i) => new VirtualHost(`direct-${i}`, 7 + i));
  let now = Date.now() - 3_600_000;
  const batches: IndexedDocument[][] = [];
  let batch: IndexedDocument[] = [];
  let made = 0;
  while (made < total) {
    for (const host of hosts) {
      for (const m of host.samples(now, 1000)) {
        const text = m.payload.toString();
        const decoded = decodeMessage(m.topic, text);
        if (!decoded.ok) throw new Error(decoded.reason);
        for (const document of sampleDocuments(decoded, ns)) {
          batch.push(withIds ? document : { ...document, id: "" });
          made += 1;
        }
        if (batch.length >= 1000) {
          batches.push(batch);
          batch = [];
        }
      }
      if (made >= total) break;
    }
    now += 1000;
  }
  if (batch.length) batches.push(batch);
  return batches;
}

export async function installTemplates(s: Services, ns: string, timeSeries = false): Promise<void> {
  for (const t of buildIndexTemplates({ namespace: ns })) {
    const body = structuredClone(t.body);
    if (timeSeries && t.name !== deadLetterTemplateFor(ns)) {
      // Time series data streams: host.name is the dimension, documents are sorted and compressed by it.
      body.template.settings = {
        ...body.template.settings,
        "index.mode": "time_series",
        "index.routing_path": ["host.name"],
      };
      const properties = body.template.mappings.properties as { host: { properties: { name: object } } };
      properties.host.properties.name = { type: "keyword", time_series_dimension: true };
    }
    await s.es.indices.putIndexTemplate({ name: t.name, ...body });
  }
}

/**
 * Waits until Elasticsearch has finished the work a load left behind. Merges and refreshes run on
 * for seconds after the last document: they are part of what the documents cost, so every load is
 * charged until the node is idle again, whichever way its documents came.
 */
export async function untilIdle(esPid: number | undefined): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const before = cpuSeconds(esPid);
    await sleep(2000);
    if (cpuSeconds(esPid) - before < 0.1) return;
  }
}

export interface Load {
  docs: number;
  perSecond: number;
  esCpu: number;
}

/**
 * The same kind of documents bulk-indexed straight into Elasticsearch, two bulks of 1000 in flight
 * like the ingest's workers: at full speed (the ceiling), or paced at a given rate. Elasticsearch's
 * CPU is counted from the first bulk until it is idle again.
 */
export async function directLoad(
  s: Services,
  total: number,
  esPid: number | undefined,
  ns: string,
  perSecond?: number,
): Promise<Load> {
  await installTemplates(s, ns);
  const batches = fleetDocuments(ns, total);
  await untilIdle(esPid);
  const cpu0 = cpuSeconds(esPid);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      while (next < batches.length) {
        const index = next++;
        if (perSecond) {
          const due = t0 + ((index * 1000) / perSecond) * 1000;
          const wait = due - performance.now();
          if (wait > 0) await sleep(wait);
        }
        const response = await s.es.bulk({ operations: bulkBody(batches[index]!) as never });
        if (response.errors) throw new Error("the direct loader's bulk had errors");
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await untilIdle(esPid);
  return { docs: total, perSecond: total / seconds, esCpu: cpuSeconds(esPid) - cpu0 };
}

/** Disk per document once merged, in a standard data stream and in a time series data stream. */
export async function storagePerDocument(s: Services, total: number, suffix: string) {
  const result: Record<string, number> = {};
  for (const mode of ["standard", "time_series"] as const) {
    const ns = `disk${mode === "standard" ? "std" : "tsds"}${suffix}`;
    await installTemplates(s, ns, mode === "time_series");
    for (const batch of fleetDocuments(ns, total, mode === "standard")) {
      const body = batch
        .map((d) => `{"create":{"_index":"${d.index}"${d.id ? `,"_id":"${d.id}"` : ""}}}\n${d.source}\n`)
        .join("");
      const response = await s.es.bulk({ operations: body as never });
      if (response.errors) {
        const first = response.items.find((i) => i.create?.error)?.create?.error;
        throw new Error(`bulk into ${mode} failed: ${JSON.stringify(first)}`);
      }
    }
    const index = telemetryStreamsPattern(ns);
    await s.es.indices.refresh({ index });
    await s.es.indices.forcemerge({ index, max_num_segments: 1 });
    const stats = await s.es.indices.stats({ index, metric: ["store", "docs"] });
    const all = stats._all.primaries!;
    result[mode] = (all.store?.size_in_bytes ?? 0) / Math.max(1, all.docs?.count ?? 1);
  }
  return result as { standard: number; time_series: number };
}
