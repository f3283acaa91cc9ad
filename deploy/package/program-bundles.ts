import { existsSync, readFileSync, rmSync } from "node:fs";
import { isBuiltin } from "node:module";
import { join, relative, resolve, sep } from "node:path";
import { build, type Plugin } from "esbuild";
import { AGENT_MODULE_BUILD } from "./agent-bundle.ts";

const repo = resolve(import.meta.dirname, "..", "..");

/** One program `npm run build` bundles, in the package that ships it. */
export interface ProgramBundle {
  /** The workspace folder, relative to the repository root. */
  workspace: string;
  /** The program's entry point, relative to the workspace. */
  entry: string;
  /** The bundle, relative to the workspace; the package's bin script runs it when it exists. */
  outfile: string;
}

/** Every program the image runs, each bundled into its own package's dist/. */
export const PROGRAM_BUNDLES: readonly ProgramBundle[] = [
  { workspace: "agent", entry: "src/main.ts", outfile: "dist/telemetry-agent.js" },
  { workspace: "ingest", entry: "src/main.ts", outfile: "dist/telemetry-ingest.js" },
  { workspace: "live", entry: "src/main.ts", outfile: "dist/telemetry-live.js" },
  { workspace: "kibana", entry: "src/import.ts", outfile: "dist/import.js" },
  { workspace: "deploy", entry: "certs/make-certs.ts", outfile: "dist/make-certs.js" },
  // The compose setup step, with the ingest's template installer inlined: one builder of templates.
  { workspace: "deploy", entry: "setup/elasticsearch.mjs", outfile: "dist/setup-elasticsearch.js" },
];

interface Manifest {
  name: string;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
}

interface Workspace {
  dir: string;
  manifest: Manifest;
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
}

/**
 * The root manifest's workspaces that are present, longest folder first so a nested one wins over
 * its parent. The image's build stage holds the shipped workspaces only, not the dev stack.
 */
function workspaces(): Workspace[] {
  const root = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { workspaces: string[] };
  return root.workspaces
    .map((folder) => resolve(repo, folder))
    .filter((dir) => existsSync(join(dir, "package.json")))
    .map((dir) => ({ dir, manifest: readManifest(dir) }))
    .sort((a, b) => b.dir.length - a.dir.length);
}

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/**
 * Workspace packages are inlined; every npm package stays an import, installed beside the bundle by
 * `npm ci --omit=dev`. Each import must be a runtime dependency of the package whose file makes it,
 * so a dependency missing from a manifest (or listed under devDependencies only, which the image
 * does not install) fails the build instead of the program's start.
 */
function declaredDependencies(all: Workspace[]): Plugin {
  const names = new Set(all.map((w) => w.manifest.name));
  return {
    name: "declared-dependencies",
    setup(builder) {
      builder.onResolve({ filter: /^[^./]/ }, (args) => {
        if (isBuiltin(args.path)) return undefined;
        const name = packageName(args.path);
        const owner = all.find((w) => args.importer.startsWith(w.dir + sep));
        const declared = owner?.manifest.dependencies ?? {};
        if (!(name in declared)) {
          const where = owner ? `${relative(repo, owner.dir)}/package.json` : "no workspace";
          return {
            errors: [
              {
                text: `${relative(repo, args.importer)} imports ${name}, which is not in the dependencies of ${where}`,
              },
            ],
          };
        }
        return names.has(name) ? undefined : { path: args.path, external: true };
      });
    },
  };
}

/** esbuild's target from a manifest's `engines.node` (">=20.12" → "node20.12"). */
function nodeTarget(manifest: Manifest): string {
  const floor = /(\d+(?:\.\d+){0,2})/.exec(manifest.engines?.node ?? "")?.[1];
  if (!floor) throw new Error(`${manifest.name}: package.json has no engines.node to build for`);
  return `node${floor}`;
}

/** Bundles every program into its package's dist/, which it empties first; returns the files written. */
export async function bundlePrograms(
  programs: readonly ProgramBundle[] = PROGRAM_BUNDLES,
): Promise<string[]> {
  const all = workspaces();
  for (const folder of new Set(programs.map((p) => p.workspace)))
    rmSync(join(repo, folder, "dist"), { recursive: true, force: true });
  const written: string[] = [];
  for (const program of programs) {
    const dir = resolve(repo, program.workspace);
    const outfile = join(dir, program.outfile);
    await build({
      ...AGENT_MODULE_BUILD,
      // The alias bundles jsonc-parser's ES module build, and the agent's bundle needs REQUIRE_SHIM for
      // the CommonJS packages it inlines; here no npm package is inlined, so neither applies.
      alias: {},
      target: nodeTarget(readManifest(dir)),
      entryPoints: [join(dir, program.entry)],
      outfile,
      plugins: [declaredDependencies(all)],
      logLevel: "warning",
    });
    written.push(relative(repo, outfile));
  }
  return written;
}
