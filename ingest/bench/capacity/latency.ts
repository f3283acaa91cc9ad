import mqtt from "mqtt";
import { dataStreamFor, sampleTopic } from "@cluster-telemetry/contract";
import { benchLoadSample } from "../load-sample.ts";
import { percentile, simulate, sleep } from "../rig.ts";
import type { CapacityRun } from "./capacity-run.ts";

export interface Latency {
  /** Probe samples published. */
  sent: number;
  /** Documents in the messages the broker acknowledged to the loading fleet. */
  acked: number;
  /** Publish-to-searchable, ms. */
  p50: number;
  p99: number;
  /** Probe samples found searchable. */
  seen: number;
}

/** Publish-to-searchable latency of probe samples sent every 100 ms while a fleet loads the pipeline. */
export async function latencyUnder(
  { s, run, namespace }: CapacityRun,
  hosts: number,
  seconds: number,
  seed: number,
): Promise<Latency> {
  const fleet = simulate(s.broker.url, { hosts, seconds, prefix: `lat${seed}-${run}`, seed });
  const probeHost = `probe${seed}-${run}`;
  const probe = await mqtt.connectAsync(s.broker.url, {
    clientId: `probe-${run}-${seed}`,
    protocolVersion: 5,
  });
  const index = dataStreamFor("load", namespace);
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
        // A poll that fails (the stream not created yet) is retried 50 ms later; a probe never
        // seen shows in the report as seen/sent.
        () => undefined,
      );
  }, 50);
  await sleep(3000); // past the fleet's start
  const until = Date.now() + (seconds - 5) * 1000;
  while (Date.now() < until) {
    const payload = JSON.stringify(benchLoadSample(probeHost, Date.now(), "telemetry-probe"));
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
    acked: summary.ackedDocuments,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    seen: latencies.length,
  };
}
