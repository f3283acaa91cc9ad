import { loadOptions, type ConfigOf } from "@cluster-telemetry/contract/config";
import type { INGEST_OPTIONS } from "./ingest-options.ts";
import { INGEST_PROGRAM } from "./ingest-options.ts";

export { ConfigError, ConfigExit } from "@cluster-telemetry/contract/config";

/**
 * The ingest's one configuration object, built once at start from flags, then environment
 * variables, then an optional JSON file, as ingest-options.ts declares them. Durations are in
 * milliseconds. Nothing else reads process.env.
 */
export type IngestConfig = ConfigOf<typeof INGEST_OPTIONS>;

/** What no single option can say. */
function ingestProblems(c: Partial<IngestConfig>): string[] {
  const problems: string[] = [];
  if (c.lowWater !== undefined && c.highWater !== undefined && c.lowWater >= c.highWater)
    problems.push(`--low-water (${c.lowWater}) must be below --high-water (${c.highWater})`);
  if (Boolean(c.mqttCertFile) !== Boolean(c.mqttKeyFile))
    problems.push("--mqtt-cert-file and --mqtt-key-file go together");
  return problems;
}

/** Builds the configuration or throws ConfigError (every problem at once) or ConfigExit. */
export function loadIngestConfig(argv: readonly string[], env: NodeJS.ProcessEnv): IngestConfig {
  return loadOptions(INGEST_PROGRAM, argv, env, ingestProblems);
}

export function loadIngestConfigFromProcess(): IngestConfig {
  return loadIngestConfig(process.argv.slice(2), process.env);
}
