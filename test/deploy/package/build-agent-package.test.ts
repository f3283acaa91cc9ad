import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { buildAgentPackage, type AgentPackage } from "../../../deploy/package/build-agent-package.ts";
import { INSTALLED, NODE_FLOOR_MAJOR } from "../../../deploy/package/agent-package-layout.ts";
import { ensureDebianBinary } from "@cluster-telemetry/dev-stack";

const repo = resolve(import.meta.dirname, "..", "..", "..");

async function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, { maxBuffer: 16 << 20 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

/** `dpkg-deb --contents` or `tar -tv` lines as path → mode string ("-rwxr-xr-x", "lrwxrwxrwx", …). */
function listing(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of text.trim().split("\n")) {
    const fields = line.split(/\s+/);
    const path = fields[5]!.replace(/^\.\//, "/").replace(/\/$/, "");
    if (path) entries.set(path, fields[0]!);
  }
  return entries;
}

describe("npm run package:agent", () => {
  const out = mkdtempSync(join(tmpdir(), "agent-package-"));
  let built: AgentPackage;

  before(async () => {
    built = await buildAgentPackage({ outDir: out, version: "1.2.3" });
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it("names the .deb telemetry-agent_<version>_all.deb, for every architecture, needing only nodejs 18 and adduser", async () => {
    assert.equal(built.deb, join(out, "telemetry-agent_1.2.3_all.deb"));
    const info = await run(ensureDebianBinary("dpkg-deb", "dpkg"), ["--info", built.deb]);
    assert.equal(info.code, 0, info.output);
    for (const field of [
      "Package: telemetry-agent",
      "Version: 1.2.3",
      "Architecture: all",
      `Depends: nodejs (>= ${NODE_FLOOR_MAJOR}), adduser`,
    ])
      assert.match(info.output, new RegExp(`^ ${field.replace(/[()]/g, "\\$&")}$`, "m"), field);
    for (const script of ["postinst", "prerm", "postrm", "conffiles", "md5sums"])
      assert.match(info.output, new RegExp(`\\s${script}\\s`), script);
  });

  it("holds one bundled file for the agent, the unit, the settings as a conffile, and no node_modules", async () => {
    const contents = listing((await run("dpkg-deb", ["--contents", built.deb])).output);
    assert.deepEqual(
      [...contents.keys()].filter((path) => contents.get(path)![0] !== "d").sort(),
      [
        INSTALLED.envFile,
        INSTALLED.unit,
        INSTALLED.command,
        INSTALLED.bundle,
        `${INSTALLED.docDir}/README.md`,
        `${INSTALLED.docDir}/changelog.gz`,
        `${INSTALLED.docDir}/copyright`,
      ].sort(),
    );
    assert.equal(contents.get(INSTALLED.bundle), "-rwxr-xr-x");
    assert.equal(contents.get(INSTALLED.command)?.[0], "l");
    assert.equal(contents.get(INSTALLED.stateDir), "drwxr-xr-x");
    const extracted = mkdtempSync(join(out, "control-"));
    await run("dpkg-deb", ["--control", built.deb, extracted]);
    assert.equal(readFileSync(join(extracted, "conffiles"), "utf8"), `${INSTALLED.envFile}\n`);
  });

  it("ships the repository's systemd unit unchanged, whose ExecStart runs the bundle and which systemd accepts", async () => {
    const root = mkdtempSync(join(out, "root-"));
    assert.equal((await run("dpkg-deb", ["--extract", built.deb, root])).code, 0);
    const unit = readFileSync(join(root, INSTALLED.unit), "utf8");
    assert.equal(unit, readFileSync(join(repo, "deploy/systemd/telemetry-agent.service"), "utf8"));
    assert.match(unit, new RegExp(`^ExecStart=/usr/bin/node .*${INSTALLED.bundle}$`, "m"));
    const verify = await run(ensureDebianBinary("systemd-analyze", "systemd"), [
      "verify",
      join(root, INSTALLED.unit),
    ]);
    assert.equal(verify.code, 0, verify.output);
    assert.equal(verify.output.trim(), "", verify.output);
  });

  it("is a package lintian reports no error in", async () => {
    const lintian = await run(ensureDebianBinary("lintian", "lintian"), [
      "--no-tag-display-limit",
      built.deb,
    ]);
    const errors = lintian.output.split("\n").filter((line) => line.startsWith("E: "));
    assert.deepEqual(errors, [], lintian.output);
  });

  it("puts the same files in the .tar.gz for other distributions, the unit under /usr/lib, without the maintainer scripts", async () => {
    const deb = listing((await run("dpkg-deb", ["--contents", built.deb])).output);
    const tar = listing((await run("tar", ["-tvzf", built.tarball])).output);
    assert.equal(built.tarball, join(out, "telemetry-agent-1.2.3.tar.gz"));
    const usrMerged = [...deb.entries()].map(([path, mode]) => [
      path.replace(/^\/lib(\/|$)/, "/usr/lib$1"),
      mode,
    ]);
    assert.deepEqual(
      [...tar.entries()].sort(),
      [...new Map(usrMerged as [string, string][]).entries()].sort(),
    );
  });
});
