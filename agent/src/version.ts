import { existsSync, readFileSync } from "node:fs";

/** The package version, reported in every message as agent.version (from source or from dist/). */
function readVersion(): string {
  for (const relative of ["../../package.json", "../../../package.json"]) {
    const url = new URL(relative, import.meta.url);
    if (existsSync(url)) return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
  }
  return "0.0.0";
}

export const AGENT_VERSION = readVersion();
