import { existsSync, readFileSync } from "node:fs";

/** Set by the package build (esbuild `define`): a bundle has no package.json beside it. */
declare const TELEMETRY_AGENT_BUILD_VERSION: string | undefined;

/** The package version, reported in every message as agent.version (from source or from dist/). */
function readVersion(): string {
  if (typeof TELEMETRY_AGENT_BUILD_VERSION === "string") return TELEMETRY_AGENT_BUILD_VERSION;
  for (const relative of ["../../package.json", "../../../package.json"]) {
    const url = new URL(relative, import.meta.url);
    if (existsSync(url)) return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
  }
  return "0.0.0";
}

export const AGENT_VERSION = readVersion();
