import { sample } from "@cluster-telemetry/contract";

/**
 * The one load sample the benches build themselves (bench:ingest's fleet, bench:capacity's latency
 * probe): a valid `<topic root>/<host>/load` sample stamped `timestamp` (ms), through the contract's
 * builder, so it follows the envelope wherever the contract takes it.
 */
export function benchLoadSample(host: string, timestamp: number, agentType = "telemetry-agent") {
  return sample(
    "load",
    {
      host: { name: host, architecture: "x86_64" },
      agent: { type: agentType, version: "bench" },
      periodMs: 10_000,
    },
    { "1": 0.5, "5": 0.4, "15": 0.3, cores: 2, norm: { "1": 0.25, "5": 0.2, "15": 0.15 } },
    timestamp,
  );
}
