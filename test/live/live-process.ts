import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnProgram, waitFor, type ProgramProcess } from "@cluster-telemetry/dev-stack";

export interface LiveProcess extends ProgramProcess {
  /** The page's address, from the program's own log line. */
  url: string;
  /** The address with the token, as a person would open it first. */
  signInUrl: string;
  token: string;
}

/** A fresh token file location (the program creates the token on first start). */
export function tokenFileIn(dir = mkdtempSync(join(tmpdir(), "telemetry-live-"))): string {
  return join(dir, "token");
}

/** The real telemetry-live as a child process, resolved once it logs where it listens. */
export async function spawnLive(args: string[], env: NodeJS.ProcessEnv = {}): Promise<LiveProcess> {
  const program = spawnProgram("live/src/main.ts", args, env);
  let url = "";
  let tokenFile = "";
  await waitFor("telemetry-live to listen", () => {
    const line = program
      .output()
      .split("\n")
      .find((l) => l.includes('"event":"live_listening"'));
    if (!line) return false;
    const record = JSON.parse(line) as { url: string; tokenFile?: string };
    url = record.url;
    tokenFile = record.tokenFile ?? "";
    return true;
  });
  const token = tokenFile ? readFileSync(tokenFile, "utf8").trim() : "";
  return { ...program, url, token, signInUrl: `${url}?token=${token}` };
}
