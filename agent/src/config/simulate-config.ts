import {
  Duration,
  loadOptions,
  type ConfigOf,
  type ProgramOptions,
  Type,
} from "@cluster-telemetry/contract/config";
import type { SimulationOptions } from "../simulate/fleet-simulator.ts";
import { agentProblems, type AgentConfig } from "./agent-config.ts";
import { AGENT_OPTIONS, AGENT_PROGRAM } from "./agent-options.ts";

export interface SimulationConfig {
  simulation: SimulationOptions;
  /** Broker, credentials and TLS: the agent's own options, shared by every connection. */
  connection: AgentConfig;
}

/** The simulator's own options; the agent's connection options (broker, interval, TLS, …) come with them. */
export const SIMULATION_OPTIONS = {
  hosts: {
    schema: Type.Integer({ minimum: 1 }),
    description: "virtual hosts",
    fileKey: false,
    default: 1000,
  },
  connections: {
    schema: Type.Integer({ minimum: 1 }),
    description: "MQTT connections the hosts share",
    fileKey: false,
    default: 20,
  },
  durationMs: {
    schema: Duration({ minimum: "1ms" }),
    description: "stop after this long",
    flag: "--duration",
    fileKey: false,
    defaultText: "until Ctrl-C",
  },
  prefix: {
    schema: Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_-]*$" }),
    invalid: "must be a valid start of a host name",
    description: "host names are <prefix>-<n>",
    placeholder: "name",
    fileKey: false,
    default: "sim",
  },
  offlineRate: {
    schema: Type.Number({ minimum: 0, maximum: 1 }),
    description: "chance per host and interval of going offline for a while",
    placeholder: "p",
    fileKey: false,
    default: 0.0005,
  },
  seed: {
    schema: Type.Integer(),
    description: "random seed: the same seed gives the same fleet",
    fileKey: false,
    default: 1,
  },
} satisfies ProgramOptions["options"];

// Each virtual host reports its own name, and client ids derive from the prefix.
const { host: _host, clientId: _clientId, once: _once, ...CONNECTION_OPTIONS } = AGENT_OPTIONS;

export const SIMULATE_PROGRAM = {
  name: "telemetry-agent simulate",
  description: "Publishes realistic samples for many virtual hosts over a few MQTT connections.",
  options: { ...SIMULATION_OPTIONS, ...CONNECTION_OPTIONS },
  configFileEnv: AGENT_PROGRAM.configFileEnv,
} satisfies ProgramOptions;

/**
 * `telemetry-agent simulate …`: the simulator's own options, and the agent's connection options
 * (broker, interval, credentials, TLS), so a simulated fleet connects as agents do.
 */
export function loadSimulationConfig(argv: readonly string[], env: NodeJS.ProcessEnv): SimulationConfig {
  const withHost = (c: Partial<ConfigOf<typeof SIMULATE_PROGRAM.options>>) => ({
    ...c,
    host: c.prefix === undefined ? undefined : `${c.prefix}-simulator`,
  });
  const c = loadOptions(SIMULATE_PROGRAM, argv, env, (values) => agentProblems(withHost(values)));
  const name = `${c.prefix}-simulator`;
  return {
    connection: { ...c, host: name, clientId: name, once: false },
    simulation: {
      hosts: c.hosts,
      connections: Math.min(c.connections, c.hosts),
      intervalMs: c.intervalMs,
      durationMs: c.durationMs,
      prefix: c.prefix,
      offlineRate: c.offlineRate,
      seed: c.seed,
    },
  };
}

/** The process's own flags after `simulate`, and its environment. */
export function loadSimulationConfigFromProcess(): SimulationConfig {
  return loadSimulationConfig(process.argv.slice(3), process.env);
}
