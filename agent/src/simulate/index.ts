// The fleet simulator's face for benches and tests: virtual hosts that publish what real agents do.
export { VirtualHost, seededRandom } from "./virtual-host.ts";
export { FleetSimulator, type SimulationOptions, type SimulationSummary } from "./fleet-simulator.ts";
