import { datasetFor } from "@cluster-telemetry/contract";

/**
 * The one load sample the benches build themselves (bench:ingest's fleet, bench:capacity's latency
 * probe): a valid `<topic root>/<host>/load` payload stamped `timestamp` (ms).
 */
export function benchLoadSample(host: string, timestamp: number, agentType = "telemetry-agent") {
  return {
    "@timestamp": new Date(timestamp).toISOString(),
    host: { name: host, architecture: "x64" },
    agent: { type: agentType, version: "bench" },
    event: { dataset: datasetFor("load") },
    system: { load: { "1": 0.5, "5": 0.4, "15": 0.3, cores: 2, norm: { "1": 0.25, "5": 0.2, "15": 0.15 } } },
  };
}
