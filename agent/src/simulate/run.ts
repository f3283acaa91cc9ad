import type { SimulationConfig } from "../config/simulate-config.ts";
import { createLogger } from "../logging.ts";
import { FleetSimulator, type SimulationSummary } from "./fleet-simulator.ts";

export function formatSummary(s: SimulationSummary): string {
  const n = (x: number) => x.toLocaleString("en-US");
  return [
    `simulated ${n(s.hosts)} hosts over ${s.connections} connections for ${s.seconds} s at a ${s.intervalMs / 1000} s interval`,
    `published ${n(s.published)}  acked ${n(s.acked)}  failed ${n(s.failed)}  pending ${n(s.pending)}`,
    `produced ${n(s.producedPerSecond)}/s  acked ${n(s.ackedPerSecond)}/s  max lag ${n(s.maxLagMs)} ms  event loop ${Math.round(s.eventLoopUtilization * 100)}% busy`,
    `limit: ${s.limit}`,
    JSON.stringify({ event: "simulation_summary", ...s }),
    "",
  ].join("\n");
}

/** `telemetry-agent simulate`: runs until --duration or a signal, then prints the summary. */
export async function runSimulation(config: SimulationConfig): Promise<SimulationSummary> {
  const log = createLogger(config.connection.logLevel);
  const simulator = new FleetSimulator(config.simulation, config.connection, log);
  simulator.start();
  const stop = () => void simulator.stop();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const summary = await simulator.done;
  process.stdout.write(formatSummary(summary));
  return summary;
}
