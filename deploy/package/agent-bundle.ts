import { chmodSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { build, type Metafile } from "esbuild";
import { NODE_FLOOR_MAJOR } from "./agent-package-layout.ts";

const repo = resolve(import.meta.dirname, "..", "..");

export interface AgentBundleOptions {
  /** Where the bundle goes (an .mjs file); made executable. */
  outfile: string;
  /** Reported as agent.version in every message. */
  version: string;
}

/**
 * The agent and every dependency it loads in one ES module, for nodes without npm or node_modules.
 * Targets the oldest Node.js the package supports, so esbuild rejects syntax that it would not run.
 */
export async function bundleAgent(options: AgentBundleOptions): Promise<Metafile> {
  mkdirSync(dirname(options.outfile), { recursive: true });
  const result = await build({
    entryPoints: [resolve(repo, "agent/src/main.ts")],
    outfile: options.outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: `node${NODE_FLOOR_MAJOR}`,
    metafile: true,
    legalComments: "none",
    logLevel: "warning",
    define: { TELEMETRY_AGENT_BUILD_VERSION: JSON.stringify(options.version) },
    // jsonc-parser's default entry is a UMD module whose factory require()s its parts at run time,
    // which a bundle cannot resolve; its ES module build is bundled whole.
    alias: { "jsonc-parser": "jsonc-parser/lib/esm/main.js" },
    banner: {
      js: [
        "#!/usr/bin/node",
        // Older Node.js would fail somewhere inside a dependency; say what is missing instead.
        `if (Number(process.versions.node.split(".")[0]) < ${NODE_FLOOR_MAJOR}) {`,
        `  process.stderr.write("telemetry-agent: needs Node.js ${NODE_FLOOR_MAJOR} or newer, found " + process.version + "\\n");`,
        "  process.exit(1);",
        "}",
        // mqtt.js, ws and pino are CommonJS and require() Node's built-in modules.
        'import { createRequire as __telemetryCreateRequire } from "node:module";',
        "const require = __telemetryCreateRequire(import.meta.url);",
      ].join("\n"),
    },
  });
  chmodSync(options.outfile, 0o755);
  return result.metafile;
}
