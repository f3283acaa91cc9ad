// Bundled builds inline the manifest, so the version is right wherever the program runs from.
import manifest from "../package.json" with { type: "json" };

/** The package version, printed by --version. */
export const VERSION: string = manifest.version;
