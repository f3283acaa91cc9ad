import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";

const root = resolve(import.meta.dirname, "..");
const run = promisify(execFile);

interface Manifest {
  name: string;
  workspaces?: string[];
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}
interface TreeNode {
  dependencies?: Record<string, TreeNode>;
}

const manifest = (folder: string) =>
  JSON.parse(readFileSync(join(root, folder, "package.json"), "utf8")) as Manifest;
const rootManifest = manifest(".");
const DEV_STACK = "@cluster-telemetry/dev-stack";
/** Every workspace but the dev stack: what ships, in a program or beside one. */
const shipped = rootManifest.workspaces!.filter((w) => manifest(w).name !== DEV_STACK);

/** Every package name in a workspace's runtime tree (`npm ls --omit=dev`), the workspace's own included. */
async function runtimeTree(name: string): Promise<Set<string>> {
  const { stdout } = await run("npm", ["ls", "--omit=dev", "--all", "--json", "-w", name], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  const names = new Set<string>();
  const walk = (node: TreeNode) => {
    for (const [dependency, child] of Object.entries(node.dependencies ?? {})) {
      if (names.has(dependency)) continue;
      names.add(dependency);
      walk(child);
    }
  };
  walk(JSON.parse(stdout) as TreeNode);
  assert.ok(names.has(name), `npm ls shows ${name}`);
  return names;
}

function assertTree(name: string, tree: Set<string>, has: string[], hasNot: string[]): void {
  for (const dependency of has) assert.ok(tree.has(dependency), `${name} installs ${dependency}`);
  const unwanted = hasNot.filter((dependency) => tree.has(dependency));
  assert.deepEqual(unwanted, [], `${name}'s runtime tree holds ${unwanted.join(", ")}`);
}

describe("the workspaces", () => {
  it("the agent installs MQTT, its collectors and the contract, and none of the back ends' clients", async () => {
    assertTree(
      "telemetry-agent",
      await runtimeTree("telemetry-agent"),
      ["mqtt", "systeminformation", "@cluster-telemetry/contract"],
      ["bullmq", "ioredis", "@elastic/elasticsearch", "prom-client", "@peculiar/x509", "playwright-core"],
    );
  });

  it("the ingest installs no collectors and no browser; the contract no MQTT client", async () => {
    assertTree(
      "telemetry-ingest",
      await runtimeTree("telemetry-ingest"),
      ["bullmq", "@cluster-telemetry/contract"],
      ["systeminformation", "playwright-core"],
    );
    assertTree("@cluster-telemetry/contract", await runtimeTree("@cluster-telemetry/contract"), [], ["mqtt"]);
  });

  it("no shipped package depends on the dev stack, except to develop it", async () => {
    for (const folder of shipped) {
      const { name, dependencies, optionalDependencies, peerDependencies } = manifest(folder);
      for (const kind of [dependencies, optionalDependencies, peerDependencies])
        assert.ok(
          !(DEV_STACK in (kind ?? {})),
          `${folder}/package.json: ${DEV_STACK} only in devDependencies`,
        );
      const tree = await runtimeTree(name);
      assertTree(name, tree, [], [DEV_STACK, "playwright-core"]);
    }
  });

  it("the circular-import check covers every workspace", () => {
    const madge = /madge [^&]*/.exec(rootManifest.scripts?.lint ?? "")?.[0] ?? "";
    const folders = madge.split(/\s+/).filter((word) => !word.startsWith("-") && word !== "madge");
    for (const workspace of rootManifest.workspaces!)
      assert.ok(
        folders.some((folder) => workspace === folder || workspace.startsWith(`${folder}/`)),
        `npm run lint's madge checks ${workspace} (it checks ${folders.join(", ")})`,
      );
  });

  it("the README's layout table names every workspace with its package name", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const section = readme.slice(
      readme.indexOf("## Layout"),
      readme.indexOf("\n## ", readme.indexOf("## Layout") + 1),
    );
    const rows = [...section.matchAll(/^\| \[([^\]]+)\]\([^)]*\)\s*\| `([^`]+)`/gm)].map(
      (m) => `${m[1]!.replace(/\/$/, "")} ${m[2]}`,
    );
    const expected = rootManifest.workspaces!.map((w) => `${w} ${manifest(w).name}`);
    assert.deepEqual(rows.sort(), expected.sort());
  });
});
