// npm run package:agent [-- --out DIR] [--version X.Y.Z]
//
// Builds telemetry-agent_<version>_all.deb and telemetry-agent-<version>.tar.gz (the same files,
// to unpack at / on other distributions) in dist/package/:
//
//   agent/src ──esbuild──▶ /usr/lib/telemetry-agent/telemetry-agent.mjs   (one file, Node ≥ 18)
//   deploy/systemd/telemetry-agent.service ──▶ /lib/systemd/system/        (copied unchanged)
//   deploy/package/debian/agent.env ──▶ /etc/telemetry-agent/agent.env     (conffile)
//   deploy/package/debian/{postinst,prerm,postrm} ──▶ DEBIAN/              (user, enable, start)
//
// The package is Architecture: all: the bundle is JavaScript only (no native addon is bundled),
// and Debian's nodejs for the node's architecture (amd64, arm64, armhf) runs it.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { bundleAgent } from "./agent-bundle.ts";
import { INSTALLED, NODE_FLOOR_MAJOR, PACKAGE_NAME, artifactNames } from "./agent-package-layout.ts";

const repo = resolve(import.meta.dirname, "..", "..");
const debianDir = join(import.meta.dirname, "debian");
const MAINTAINER = "cluster-telemetry maintainers <maintainers@users.noreply.b-seed-9dfbb728.example>";

export interface AgentPackageOptions {
  /** Directory the .deb and .tar.gz are written to. */
  outDir: string;
  /** Debian version; the agent package's version (agent/package.json) by default. */
  version: string;
}

export interface AgentPackage {
  deb: string;
  tarball: string;
}

/** Builds the .deb and the .tar.gz; returns their paths. */
export async function buildAgentPackage(options: AgentPackageOptions): Promise<AgentPackage> {
  const { version } = options;
  if (!/^[0-9][A-Za-z0-9.+~-]*$/.test(version)) throw new Error(`not a Debian version: ${version}`);
  const names = artifactNames(version);
  const stage = join(options.outDir, `${PACKAGE_NAME}_${version}_all`);
  rmSync(stage, { recursive: true, force: true });
  const at = (path: string) => join(stage, path);

  await bundleAgent({ outfile: at(INSTALLED.bundle), version });
  place(at(INSTALLED.unit), readFileSync(join(repo, "deploy/systemd/telemetry-agent.service")), 0o644);
  // 0644 here: postinst narrows it to 0640 root:telemetry-agent (dpkg-statoverride), before anyone
  // can have put a secret in it.
  place(at(INSTALLED.envFile), readFileSync(join(debianDir, "agent.env")), 0o644);
  mkdirSync(at(INSTALLED.stateDir), { recursive: true });
  mkdirSync(dirname(at(INSTALLED.command)), { recursive: true });
  symlinkSync(relative(dirname(INSTALLED.command), INSTALLED.bundle), at(INSTALLED.command));
  place(join(at(INSTALLED.docDir), "README.md"), readFileSync(join(repo, "agent/README.md")), 0o644);
  place(join(at(INSTALLED.docDir), "copyright"), copyright(), 0o644);
  place(join(at(INSTALLED.docDir), "changelog.gz"), gzipSync(changelog(version), { level: 9 }), 0o644);

  // The tarball carries the installed files only; maintainer scripts are the .deb's.
  normaliseModes(stage);
  mkdirSync(options.outDir, { recursive: true });
  const tarball = join(options.outDir, names.tarball);
  execFileSync("tar", [
    "--create",
    "--gzip",
    "--file",
    tarball,
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "--sort=name",
    // systemd's own directory everywhere: a /lib entry could replace a usr-merged system's /lib link.
    "--transform=s,^\\./lib($|/),./usr/lib\\1,x",
    "--directory",
    stage,
    ".",
  ]);

  const control = at("DEBIAN");
  place(join(control, "control"), controlFile(version, installedKiB(stage)), 0o644);
  place(join(control, "conffiles"), `${INSTALLED.envFile}\n`, 0o644);
  place(join(control, "md5sums"), md5sums(stage, [INSTALLED.envFile]), 0o644);
  for (const script of ["postinst", "prerm", "postrm"])
    place(join(control, script), readFileSync(join(debianDir, script)), 0o755);
  chmodSync(control, 0o755);
  const deb = join(options.outDir, names.deb);
  execFileSync("dpkg-deb", ["--root-owner-group", "-Zxz", "--build", stage, deb], { stdio: "ignore" });
  rmSync(stage, { recursive: true, force: true });
  return { deb, tarball };
}

function place(path: string, content: string | Buffer, mode: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, mode);
}

/** Directories 0755 whatever the umask; dpkg-statoverride in postinst narrows /etc/telemetry-agent. */
function normaliseModes(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true }))
    if (entry.isDirectory()) normaliseModes(join(dir, entry.name));
}

function walkFiles(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "DEBIAN" ? [] : walkFiles(path, base);
    return entry.isFile() ? [`/${relative(base, path)}`] : [];
  });
}

function installedKiB(stage: string): number {
  return walkFiles(stage).reduce((sum, file) => sum + Math.ceil(statSync(join(stage, file)).size / 1024), 0);
}

function md5sums(stage: string, conffiles: string[]): string {
  return walkFiles(stage)
    .filter((file) => !conffiles.includes(file))
    .sort()
    .map(
      (file) =>
        `${createHash("md5")
          .update(readFileSync(join(stage, file)))
          .digest("hex")}  ${file.slice(1)}\n`,
    )
    .join("");
}

function controlFile(version: string, installedSize: number): string {
  return [
    `Package: ${PACKAGE_NAME}`,
    `Version: ${version}`,
    "Architecture: all",
    `Maintainer: ${MAINTAINER}`,
    `Installed-Size: ${installedSize}`,
    `Depends: nodejs (>= ${NODE_FLOOR_MAJOR}), adduser`,
    "Section: admin",
    "Priority: optional",
    "Description: cluster-telemetry agent: CPU load, temperature and memory over MQTT",
    " A small daemon for every node of a cluster, server or Raspberry Pi: it samples",
    " CPU load, load average, CPU temperature and memory from /proc and /sys and",
    " publishes one JSON message per metric at QoS 1 to an MQTT broker, buffering",
    " while the broker is away. Set the broker in /etc/telemetry-agent/agent.env.",
    "",
  ].join("\n");
}

function copyright(): string {
  return [
    "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/",
    "Upstream-Name: cluster-telemetry",
    "",
    "Files: *",
    "Copyright: 2025-2026 cluster-telemetry maintainers",
    "License: Apache-2.0",
    " The bundled JavaScript includes these npm packages under their own licenses",
    " (MIT, ISC, BSD-2-Clause or Apache-2.0): mqtt, pino, ms, ajv, @sinclair/typebox,",
    " systeminformation and their dependencies.",
    " .",
    " On Debian systems, the full text of the Apache License 2.0 can be found in",
    " /usr/share/common-licenses/Apache-2.0.",
    "",
  ].join("\n");
}

/** A one-entry changelog dated at the last commit, so the same tree builds the same package. */
function changelog(version: string): string {
  let epoch = Math.floor(Date.now() / 1000);
  try {
    epoch = Number(
      execFileSync("git", ["log", "-1", "--format=%ct"], { cwd: repo, encoding: "utf8" }).trim(),
    );
  } catch {
    // Not a git checkout (an unpacked source archive): date it now.
  }
  const date = new Date(epoch * 1000).toUTCString().replace("GMT", "+0000");
  return [
    `${PACKAGE_NAME} (${version}) stable; urgency=medium`,
    "",
    `  * Release ${version} of the cluster-telemetry agent.`,
    "",
    ` -- ${MAINTAINER}  ${date}`,
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { out: { type: "string" }, version: { type: "string" } },
    strict: true,
  });
  const version =
    values.version ??
    (JSON.parse(readFileSync(join(repo, "agent/package.json"), "utf8")) as { version: string }).version;
  const built = await buildAgentPackage({
    outDir: resolve(values.out ?? join(repo, "dist/package")),
    version,
  });
  process.stdout.write(`${built.deb}\n${built.tarball}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) {
  main().catch((error: unknown) => {
    process.stderr.write(`package:agent: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
