// What each part of the agent's import graph costs a fresh Node.js process: every entry below is
// bundled with esbuild as the agent is, run alone, and measured after it settled (resident memory,
// V8 heap, time to load). The difference from "node alone" is what that part adds.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { AGENT_MODULE_BUILD, REQUIRE_SHIM } from "../../deploy/package/agent-bundle.ts";

const repo = resolve(import.meta.dirname, "..", "..");

export interface ImportCost {
  name: string;
  rssMb: number;
  heapMb: number;
  loadMs: number;
}

const ENTRIES: [name: string, source: string][] = [
  ["node alone", ""],
  ["mqtt (mqtt.js 5)", 'import mqtt from "mqtt"; globalThis.keep = mqtt;'],
  ["pino", 'import { pino } from "pino"; globalThis.keep = pino;'],
  [
    "the configuration kit (TypeBox, ms)",
    'import * as k from "@cluster-telemetry/contract/config"; globalThis.keep = k;',
  ],
  [
    "the contract, not validating (agent)",
    'import * as v from "@cluster-telemetry/contract"; globalThis.keep = v;',
  ],
  [
    "the contract, schemas compiled (ajv)",
    'import * as v from "@cluster-telemetry/contract"; v.schemaProblems("cpu", {}); globalThis.keep = v;',
  ],
  ["systeminformation", 'import si from "systeminformation"; globalThis.keep = si;'],
];

const PROBE = `
const t0 = performance.now();
await import("./entry.mjs");
const loadMs = performance.now() - t0;
await new Promise((r) => setTimeout(r, 1500));
const m = process.memoryUsage();
process.stdout.write(JSON.stringify({ rss: m.rss, heap: m.heapUsed, loadMs }));
`;

export async function measureImportCosts(nodeArgs: string[] = []): Promise<ImportCost[]> {
  const costs: ImportCost[] = [];
  for (const [name, source] of ENTRIES) {
    const dir = mkdtempSync(join(tmpdir(), "import-cost-"));
    await build({
      // Resolved from the agent package, as the agent resolves them.
      stdin: { contents: source, resolveDir: join(repo, "agent"), loader: "ts" },
      outfile: join(dir, "entry.mjs"),
      ...AGENT_MODULE_BUILD,
      logLevel: "error",
      banner: { js: REQUIRE_SHIM },
    });
    writeFileSync(join(dir, "probe.mjs"), PROBE);
    const out = JSON.parse(
      execFileSync(process.execPath, [...nodeArgs, join(dir, "probe.mjs")], { encoding: "utf8" }),
    ) as {
      rss: number;
      heap: number;
      loadMs: number;
    };
    costs.push({ name, rssMb: out.rss / 2 ** 20, heapMb: out.heap / 2 ** 20, loadMs: out.loadMs });
  }
  return costs;
}
