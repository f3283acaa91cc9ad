// Bundled builds inline the manifest, so the version is right wherever the agent runs from.
import manifest from "../package.json" with { type: "json" };

/** The package version, reported in every message as agent.version. */
export const AGENT_VERSION: string = manifest.version;
