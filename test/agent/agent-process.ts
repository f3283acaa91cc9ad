import { spawnProgram, type ProgramProcess } from "@cluster-telemetry/dev-stack";

export { waitFor } from "@cluster-telemetry/dev-stack";
export type AgentProcess = ProgramProcess;

/** The real agent as a child process. */
export function spawnAgent(args: string[], env: NodeJS.ProcessEnv = {}): AgentProcess {
  return spawnProgram("agent/src/main.ts", args, env);
}
