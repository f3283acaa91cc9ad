import { hostNameProblem, isMetricName, type MetricName } from "@cluster-telemetry/contract";
import { loadOptions, type ConfigOf } from "@cluster-telemetry/contract/config";
import type { AGENT_OPTIONS } from "./agent-options.ts";
import { AGENT_PROGRAM } from "./agent-options.ts";

export { ConfigError, ConfigExit } from "@cluster-telemetry/contract/config";

/**
 * The agent's one configuration object, built once at start from flags, then environment
 * variables, then an optional JSON file (in that order of precedence), as agent-options.ts
 * declares them. Durations are in milliseconds. Nothing else reads process.env.
 */
export type AgentConfig = ConfigOf<typeof AGENT_OPTIONS>;

const LOCAL = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|::1)$/;

/** What no single option can say: a topic-safe host name, TLS files in pairs, no password in clear text. */
export function agentProblems(c: Partial<AgentConfig>): string[] {
  const problems: string[] = [];
  const hostProblem = c.host === undefined ? undefined : hostNameProblem(c.host);
  if (hostProblem) problems.push(hostProblem);
  if (Boolean(c.certFile) !== Boolean(c.keyFile)) problems.push("cert file and key file go together");
  for (const name of c.metrics?.split(",") ?? [])
    if (!isMetricName(name)) problems.push(`metrics: "${name}" is not a metric of the contract`);
  if (c.broker !== undefined) {
    const url = new URL(c.broker);
    const plain = url.protocol === "mqtt:" || url.protocol === "ws:";
    if (plain && (c.password || c.tokenFile) && !LOCAL.test(url.hostname) && !c.allowInsecure) {
      problems.push(
        `refusing to send a password in clear text to ${url.hostname}: use mqtts:// or pass --allow-insecure`,
      );
    }
  }
  return problems;
}

/** The metrics a configuration collects (its `metrics` option, already checked). */
export function metricsOf(config: Pick<AgentConfig, "metrics">): Set<MetricName> {
  return new Set(config.metrics.split(",").filter(isMetricName));
}

/** Builds the configuration or throws ConfigError (every problem at once) or ConfigExit. */
export function loadAgentConfig(argv: readonly string[], env: NodeJS.ProcessEnv): AgentConfig {
  return loadOptions(AGENT_PROGRAM, argv, env, agentProblems);
}

/** The process's own flags and environment: the one place the agent reads them. */
export function loadAgentConfigFromProcess(): AgentConfig {
  return loadAgentConfig(process.argv.slice(2), process.env);
}
