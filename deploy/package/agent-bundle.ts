import { chmodSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { build, type BuildOptions, type Metafile } from "esbuild";
import { NODE_FLOOR_MAJOR } from "./agent-package-layout.ts";

const repo = resolve(import.meta.dirname, "..", "..");

export interface AgentBundleOptions {
  /** Where the bundle goes (an .mjs file); made executable. */
  outfile: string;
  /** Reported as agent.version in every message. */
  version: string;
}

/**
 * esbuild settings for one ES module holding the agent's code and dependencies, runnable on the
 * oldest Node.js the package supports: the package's bundle and the footprint bench's builds.
 */
export const AGENT_MODULE_BUILD = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: `node${NODE_FLOOR_MAJOR}`,
  // jsonc-parser's default entry is a UMD module whose factory require()s its parts at run time,
  // which a bundle cannot resolve; its ES module build is bundled whole.
  alias: { "jsonc-parser": "jsonc-parser/lib/esm/main.js" },
} satisfies BuildOptions;

/** mqtt.js, ws and pino are CommonJS and require() Node's built-in modules: an ES module needs a require. */
export const REQUIRE_SHIM =
  'import { createRequire as __telemetryCreateRequire } from "node:module";\n' +
  "const require = __telemetryCreateRequire(import.meta.url);";

/**
 * The agent and every dependency it loads in one ES module, for nodes without npm or node_modules.
 * Targets the oldest Node.js the package supports, so esbuild rejects syntax that it would not run.
 */
export async function bundleAgent(options: AgentBundleOptions): Promise<Metafile> {
  mkdirSync(dirname(options.outfile), { recursive: true });
  const result = await build({
    entryPoints: [resolve(repo, "agent/src/main.ts")],
    outfile: options.outfile,
    ...AGENT_MODULE_BUILD,
    metafile: true,
    legalComments: "none",
    logLevel: "warning",
    // The package's version, which a build may set apart from the manifest's (--version).
    define: { TELEMETRY_AGENT_BUILD_VERSION: JSON.stringify(options.version) },
    banner: {
      js: [
        "#!/usr/bin/node",
        // Older Node.js would fail somewhere inside a dependency; say what is missing instead.
        `if (Number(process.versions.node.split(".")[0]) < ${NODE_FLOOR_MAJOR}) {`,
        `  process.stderr.write("telemetry-agent: needs Node.js ${NODE_FLOOR_MAJOR} or newer, found " + process.version + "\\n");`,
        "  process.exit(1);",
        "}",
        REQUIRE_SHIM,
      ].join("\n"),
    },
  });
  chmodSync(options.outfile, 0o755);
  return result.metafile;
}
