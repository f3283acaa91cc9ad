// Bundled builds inline the manifest, so the version is right wherever the agent runs from.
import manifest from "../package.json" with { type: "json" };

/** Set by the package build (esbuild `define`) to the Debian package's version, when it differs. */
declare const TELEMETRY_AGENT_BUILD_VERSION: string | undefined;

/** The version reported in every message as agent.version: the package's, else the manifest's. */
export const AGENT_VERSION: string =
  typeof TELEMETRY_AGENT_BUILD_VERSION === "string" ? TELEMETRY_AGENT_BUILD_VERSION : manifest.version;
