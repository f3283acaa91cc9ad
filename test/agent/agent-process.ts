import { spawnProgram, type ProgramProcess } from "../harness/program.ts";

export { waitFor } from "../harness/program.ts";
export type AgentProcess = ProgramProcess;

/** The real agent as a child process. */
export function spawnAgent(args: string[], env: NodeJS.ProcessEnv = {}): AgentProcess {
  return spawnProgram("agent/src/main.ts", args, env);
}
