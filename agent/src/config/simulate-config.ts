import { Command, CommanderError } from "commander";
import { z } from "zod";
import type { SimulationOptions } from "../simulate/fleet-simulator.ts";
import { ConfigError, ConfigExit, loadAgentConfig, type AgentConfig } from "./agent-config.ts";

export interface SimulationConfig {
  simulation: SimulationOptions;
  /** Broker, credentials and TLS: the agent's own options, shared by every connection. */
  connection: AgentConfig;
}

const Simulation = z.object({
  hosts: z.coerce.number().int().min(1, "hosts must be at least 1"),
  connections: z.coerce.number().int().min(1, "connections must be at least 1"),
  duration: z.coerce.number().positive("duration must be positive").optional(),
  prefix: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, "prefix must be a valid start of a host name"),
  offlineRate: z.coerce.number().min(0).max(1, "offline rate is a probability between 0 and 1"),
  seed: z.coerce.number().int(),
});

const OWN = ["--hosts", "--connections", "--duration", "--prefix", "--offline-rate", "--seed"];

/**
 * `telemetry-agent simulate …`: the simulator's own flags, and everything else (broker, interval,
 * credentials, TLS) read by the agent's config, so a simulated fleet connects as agents do.
 */
export function loadSimulationConfig(argv: string[], env: NodeJS.ProcessEnv): SimulationConfig {
  const own: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.split("=")[0]!;
    if (OWN.includes(name)) {
      own.push(arg);
      if (!arg.includes("=") && i + 1 < argv.length) own.push(argv[++i]!);
    } else rest.push(arg);
  }
  const program = new Command("telemetry-agent simulate")
    .description("Publishes realistic samples for many virtual hosts over a few MQTT connections.")
    .option("--hosts <n>", "virtual hosts", "1000")
    .option("--connections <n>", "MQTT connections the hosts share", "20")
    .option("--duration <seconds>", "stop after this long (default: until Ctrl-C)")
    .option("--prefix <name>", "host names are <prefix>-<n>", "sim")
    .option("--offline-rate <p>", "chance per host and interval of going offline for a while", "0.0005")
    .option("--seed <n>", "random seed: the same seed gives the same fleet", "1")
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  if (rest.includes("--help") || rest.includes("-h")) {
    throw new ConfigExit(
      `${program.helpInformation()}\nConnection options (--broker, --interval, --username, TLS, …) are the agent's: telemetry-agent --help\n`,
    );
  }
  try {
    program.parse(own, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) throw new ConfigError([error.message.replace(/^error: /, "")]);
    throw error;
  }
  const parsed = Simulation.safeParse(program.opts());
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => i.message);
  let connection: AgentConfig | undefined;
  try {
    // The connection config needs a host name of its own; client ids derive from it.
    const prefix = parsed.success ? parsed.data.prefix : "sim";
    connection = loadAgentConfig(
      ["--host", `${prefix}-simulator`, "--client-id", `${prefix}-simulator`, ...rest],
      env,
    );
  } catch (error) {
    if (error instanceof ConfigError) problems.push(...error.problems);
    else throw error;
  }
  if (!parsed.success || !connection || problems.length > 0) throw new ConfigError(problems);
  return {
    connection,
    simulation: {
      hosts: parsed.data.hosts,
      connections: Math.min(parsed.data.connections, parsed.data.hosts),
      intervalMs: connection.intervalMs,
      durationMs: parsed.data.duration === undefined ? undefined : parsed.data.duration * 1000,
      prefix: parsed.data.prefix,
      offlineRate: parsed.data.offlineRate,
      seed: parsed.data.seed,
    },
  };
}

/** The process's own flags after `simulate`, and its environment. */
export function loadSimulationConfigFromProcess(): SimulationConfig {
  return loadSimulationConfig(process.argv.slice(3), process.env);
}
