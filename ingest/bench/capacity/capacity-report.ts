import type { Load } from "../direct-load.ts";
import type { Floor } from "../floor.ts";
import { machine } from "../rig.ts";
import { perEsCpu, type EfficiencyPair } from "./efficiency.ts";
import type { Latency } from "./latency.ts";
import type { Ramp } from "./ramp.ts";

/** Everything bench:capacity measured, as the report needs it. */
export interface CapacityFigures {
  stepSeconds: number;
  ramp: Ramp;
  /** The same number of documents straight into Elasticsearch, at full speed. */
  direct: Load;
  /** The efficiency pairs' fleet size and length. */
  pairHosts: number;
  pairSeconds: number;
  pairs: EfficiencyPair[];
  floor: Floor;
  /** Latency at shares of the sustained rate, with the rate (msg/s) each was measured at. */
  latency: Array<Latency & { share: number; rate: number }>;
  /** The main ingest's resident memory at the end of its run, MB. */
  ingestRss: number;
  bytesPerQueued: number;
  /** Disk per merged document, bytes. */
  disk: { standard: number; time_series: number };
  /** Documents in the messages the broker acknowledged to publishers, and documents found indexed. */
  acknowledged: number;
  indexed: number;
}

/** The Markdown report bench:capacity prints and writes (ingest/docs/capacity-results.md). */
export function capacityReport(f: CapacityFigures, measuredOn: Date = new Date()): string {
  const { steps, best, saturated, sustained } = f.ramp;
  const e2ePerEsCpu = perEsCpu(f.pairs.map((p) => p.pipeline));
  const pacedPerEsCpu = perEsCpu(f.pairs.map((p) => p.direct));
  const w = best.window;
  const us = (seconds: number) => (seconds / Math.max(1, w.received)) * 1e6;
  const outside = us(w.cpu.broker! + w.cpu.ingest! + w.cpu.redis!);
  const lines = [
    `# Capacity benchmark results`,
    ``,
    `Measured by \`npm run bench:capacity\` on ${measuredOn.toISOString().slice(0, 10)}: ${machine()}. Mosquitto,`,
    `Redis, Elasticsearch (1 node, 2 GB heap), the ingest and the load generator share the machine's cores.`,
    ``,
    `## Ramp (1 s interval, ${f.stepSeconds} s per step)`,
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
    `| documents/s (sustained, ${best.hosts} hosts) | ${Math.round(sustained)} | ${Math.round(f.direct.perSecond)} | ${(sustained / f.direct.perSecond).toFixed(2)} | as high as the others allow |`,
    `| documents per Elasticsearch CPU-second, at the same rate (${f.pairHosts} hosts) | ${Math.round(e2ePerEsCpu)} | ${Math.round(pacedPerEsCpu)} | ${(e2ePerEsCpu / pacedPerEsCpu).toFixed(2)} | ≥ 0.9 |`,
    `| CPU µs per message outside Elasticsearch (broker + ingest + Redis) | ${outside.toFixed(1)} | | | ≤ 30 |`,
    `| the floor under it: broker + a subscriber that only acknowledges (${best.hosts} hosts, Elasticsearch idle) | ${f.floor.total.toFixed(1)} | | | |`,
    ``,
    `Elasticsearch CPU per document is charged from a load's first document until the node is idle`,
    `again (the merges and refreshes a load leaves behind are part of its cost), for ${f.pairSeconds} s of fleet`,
    `through the pipeline and as many documents at the same rate straight in, each into fresh`,
    `data streams, in ${f.pairs.length} rounds that alternate which goes first: ${f.pairs
      .map(
        (p, i) =>
          `round ${i + 1} pipeline ${Math.round(p.pipeline.docs / p.pipeline.esCpu)}, direct ${Math.round(p.direct.docs / p.direct.esCpu)}`,
      )
      .join("; ")} documents per CPU-second.`,
    ``,
    `The floor is the same fleet into the same broker with, in place of the ingest, an MQTT 5 subscriber`,
    `that does nothing but acknowledge, in one write per 5 ms as the ingest does (ingest/bench/acknowledge-only.ts):`,
    `broker ${f.floor.broker.toFixed(1)} µs per message, ${f.floor.brokerKernel.toFixed(1)} of them in the kernel (sockets, epoll), and subscriber ${f.floor.subscriber.toFixed(1)} µs.`,
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
    `| ingest resident memory | ${f.ingestRss.toFixed(0)} MB |`,
    `| Redis commands per message | ${(w.redisCalls / Math.max(1, w.received)).toFixed(3)} |`,
    `| documents per bulk request | ${(w.bulkDocs / Math.max(1, w.bulks)).toFixed(0)} |`,
    `| Redis memory per queued sample | ${Math.round(f.bytesPerQueued)} bytes |`,
    `| disk per document, merged, standard data stream | ${Math.round(f.disk.standard)} bytes |`,
    `| disk per document, merged, time series data stream | ${Math.round(f.disk.time_series)} bytes |`,
    ``,
    `## Publish-to-searchable latency (probe samples every 100 ms, refresh interval 1 s)`,
    ``,
    `| load | msg/s | p50 ms | p99 ms | probes seen |`,
    `| --- | ---: | ---: | ---: | ---: |`,
    ...f.latency.map(
      (l) =>
        `| ${l.share * 100}% of sustained | ${l.rate} | ${Math.round(l.p50)} | ${Math.round(l.p99)} | ${l.seen}/${l.sent} |`,
    ),
    ``,
    `## Zero loss, zero duplicates`,
    ``,
    `${f.acknowledged} documents in the messages the broker acknowledged, ${f.indexed} documents indexed (ids are sample identities, so a duplicate cannot add a document and a loss shows as a shortfall).`,
    ``,
  ];
  return lines.join("\n");
}
