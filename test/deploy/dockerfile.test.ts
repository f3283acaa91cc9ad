import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, posix, relative, resolve } from "node:path";
import { before, describe, it } from "node:test";
import { promisify } from "node:util";
import { PROGRAM_BUNDLES } from "../../deploy/package/program-bundles.ts";
import { BASE, resolved } from "./compose-file.ts";

const root = resolve(import.meta.dirname, "..", "..");
const run = promisify(execFile);

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  base: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions of a Dockerfile: comments dropped, backslash continuations joined. */
function instructions(text: string): Instruction[] {
  const joined = text.replace(/\\\r?\n/g, " ");
  return joined
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(" ") };
    });
}

function stages(text: string): { globalArgs: Map<string, string>; stages: Stage[] } {
  const globalArgs = new Map<string, string>();
  const result: Stage[] = [];
  for (const instruction of instructions(text)) {
    if (instruction.keyword === "FROM") {
      const [image, as, name] = instruction.args.split(/\s+/);
      const base = image!.replace(
        /\$\{(\w+)\}|\$(\w+)/g,
        (_, a: string, b: string) => globalArgs.get(a ?? b) ?? "",
      );
      result.push({ base, name: as?.toUpperCase() === "AS" ? name : undefined, instructions: [] });
    } else if (result.length === 0 && instruction.keyword === "ARG") {
      const [name, value] = instruction.args.split("=", 2);
      globalArgs.set(name!, value ?? "");
    } else {
      result.at(-1)?.instructions.push(instruction);
    }
  }
  return { globalArgs, stages: result };
}

/**
 * Docker's .dockerignore rules: patterns anchored at the context root, `*` and `?` within one path
 * segment, `**` across segments, a match on a directory excluding everything below it, and `!`
 * re-including; the last matching pattern wins.
 */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const negate = line.startsWith("!");
      const pattern = posix.normalize((negate ? line.slice(1) : line).trim().replace(/^\/+/, ""));
      let source = "";
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i]!;
        if (c === "*" && pattern[i + 1] === "*") {
          const slash = pattern[i + 2] === "/";
          source += slash ? "(?:.*/)?" : ".*";
          i += slash ? 2 : 1;
        } else if (c === "*") source += "[^/]*";
        else if (c === "?") source += "[^/]";
        else source += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
      }
      return { negate, regex: new RegExp(`^${source}$`) };
    });
  return (path: string) => {
    const parts = path.split("/");
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
    let ignored = false;
    for (const rule of rules) if (prefixes.some((p) => rule.regex.test(p))) ignored = !rule.negate;
    return ignored;
  };
}

/** The project's files as the working tree has them: tracked and new, minus what .gitignore drops. */
function projectFiles(): string[] {
  const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return listed
    .split("\0")
    .filter(Boolean)
    .filter((f) => existsSync(join(root, f)) && statSync(join(root, f)).isFile());
}

/**
 * What `npm ci` makes of this checkout's lockfile, in `dir`, without downloading it again: npm
 * packages linked to this checkout's node_modules, workspace packages linked, as npm links them,
 * to `dir`'s own workspace folders.
 */
function linkDependencies(dir: string): void {
  const modules = join(root, "node_modules");
  const link = (entry: string) => {
    const source = join(modules, entry);
    const target = join(dir, "node_modules", entry);
    if (lstatSync(source).isSymbolicLink()) symlinkSync(readlinkSync(source), target);
    else if (entry.startsWith("@") && !entry.includes("/")) {
      mkdirSync(target);
      for (const scoped of readdirSync(source)) link(`${entry}/${scoped}`);
    } else symlinkSync(source, target);
  };
  mkdirSync(join(dir, "node_modules"));
  for (const entry of readdirSync(modules)) link(entry);
}

function copyFiles(files: string[], to: string): void {
  for (const file of files) {
    mkdirSync(dirname(join(to, file)), { recursive: true });
    cpSync(join(root, file), join(to, file));
  }
}

function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(dir, path));
    }
  };
  walk(dir);
  return out.sort();
}

/** COPY's source and destination, the JSON form included; --from and other flags set aside. */
function copyArgs(args: string): { from: string | undefined; sources: string[]; dest: string } {
  const words = args.startsWith("[")
    ? (JSON.parse(args) as string[])
    : args.split(/\s+/).filter((w) => {
        return !w.startsWith("--") || w.startsWith("--from=");
      });
  const from = words.find((w) => w.startsWith("--from="))?.slice("--from=".length);
  const paths = words.filter((w) => !w.startsWith("--"));
  return { from, sources: paths.slice(0, -1), dest: paths.at(-1)! };
}

const dockerfileText = readFileSync(join(root, "deploy", "Dockerfile"), "utf8");
const parsed = stages(dockerfileText);
const ignored = dockerignore(readFileSync(join(root, ".dockerignore"), "utf8"));

describe("deploy/Dockerfile", () => {
  const final = parsed.stages.at(-1)!;
  const buildStageName = final.instructions
    .filter((i) => i.keyword === "COPY")
    .map((i) => copyArgs(i.args).from)
    .find(Boolean);
  const buildStage = parsed.stages.find((s) => s.name === buildStageName);
  let context: string[];

  before(() => {
    context = projectFiles().filter((f) => !ignored(f));
  });

  it("is multi-stage, on pinned base images", () => {
    assert.ok(parsed.stages.length >= 2, "a build stage and a runtime stage");
    assert.ok(buildStage, `the runtime copies from a named build stage (${buildStageName})`);
    for (const stage of parsed.stages) {
      const tag = /:([^/:@]+)(@sha256:[0-9a-f]{64})?$/.exec(stage.base)?.[1];
      assert.ok(tag, `${stage.base} has a tag`);
      assert.notEqual(tag, "latest");
      assert.match(tag, /^\d+\.\d+\.\d+/, `${stage.base} is pinned to a patch release`);
      assert.match(stage.base, /^node:22\./, "Node 22, the maintained LTS line (Node 20 is end of life)");
    }
  });

  it("runs the ingest as a non-root user in production mode, with a health check on /healthz", () => {
    const keywords = (k: string) => final.instructions.filter((i) => i.keyword === k);
    const user = keywords("USER").at(-1)?.args;
    assert.ok(user, "the runtime stage sets USER");
    assert.ok(!["root", "0", "0:0"].includes(user), `runs as ${user}`);
    assert.ok(
      keywords("ENV").some((i) => /\bNODE_ENV[= ]production\b/.test(i.args)),
      "NODE_ENV=production",
    );
    const health = keywords("HEALTHCHECK").at(-1)?.args ?? "";
    assert.match(health, /\/healthz/);
    assert.match(health, /9464/);
    assert.match(keywords("CMD").at(-1)?.args ?? "", /ingest\/bin\/telemetry-ingest\.js/);
    assert.ok(
      keywords("RUN").some((i) => /npm ci\b.*--omit=dev/.test(i.args)),
      "the runtime installs production dependencies only",
    );
    assert.ok(
      !keywords("COPY").some((i) => /node_modules/.test(i.args)),
      "no build-time node_modules in the runtime",
    );
  });

  it("keeps dependencies, build output, history and local secrets out of the build context", () => {
    for (const path of [
      "node_modules/typescript/package.json",
      "agent/node_modules/x/index.js",
      "ingest/dist/telemetry-ingest.js",
      ".git/HEAD",
      ".env",
      "deploy/.env",
      "test/harness/elasticsearch/target/classes/x.class",
      "test/harness/package.json",
    ])
      assert.ok(ignored(path), `${path} is not sent to the builder`);
    for (const path of [
      "package.json",
      "package-lock.json",
      "ingest/src/main.ts",
      "ingest/bin/telemetry-ingest.js",
    ])
      assert.ok(!ignored(path), `${path} is in the context`);
  });

  it("finds every file it copies in the build context", () => {
    const available = new Set(context);
    const isDir = (p: string) => context.some((f) => f.startsWith(`${p.replace(/\/$/, "")}/`));
    for (const stage of parsed.stages) {
      for (const i of stage.instructions.filter((x) => x.keyword === "COPY")) {
        const { from, sources } = copyArgs(i.args);
        if (from) continue;
        for (const source of sources)
          assert.ok(available.has(source) || isDir(source), `COPY ${source}: in the context`);
      }
    }
  });

  it("installs the runtime dependencies of the shipped workspaces only, without the dev stack", () => {
    const install =
      final.instructions.find((i) => i.keyword === "RUN" && /npm ci\b/.test(i.args))?.args ?? "";
    const selected = [...install.matchAll(/(?:-w|--workspace)[= ](\S+)/g)].map((m) => m[1]);
    const shipped = [...new Set(PROGRAM_BUNDLES.map((p) => p.workspace))].map(
      (w) => (JSON.parse(readFileSync(join(root, w, "package.json"), "utf8")) as { name: string }).name,
    );
    assert.deepEqual(selected.sort(), shipped.sort());
    const manifests = final.instructions
      .filter((i) => i.keyword === "COPY")
      .flatMap((i) => copyArgs(i.args).sources)
      .filter((source) => source.endsWith("package.json"));
    assert.ok(!manifests.includes("test/harness/package.json"), "no dev stack for npm to install");
  });

  it("holds every file the compose services, setup.sh and the bin scripts run", () => {
    // Image paths (relative to WORKDIR) each COPY of the runtime stage fills, and from where.
    const workdir = final.instructions.filter((i) => i.keyword === "WORKDIR").at(-1)?.args ?? "/";
    const copies = final.instructions
      .filter((i) => i.keyword === "COPY")
      .flatMap((i) => {
        const { from, sources, dest } = copyArgs(i.args);
        return sources.map((source) => ({
          from,
          source,
          dest: posix.relative(
            workdir,
            posix.resolve(workdir, dest.endsWith("/") ? posix.join(dest, posix.basename(source)) : dest),
          ),
        }));
      });
    const bundles = new Set(PROGRAM_BUNDLES.map((p) => posix.join(p.workspace, p.outfile)));
    const inImage = (path: string) =>
      copies.some(({ from, source, dest }) => {
        if (path !== dest && !path.startsWith(`${dest}/`)) return false;
        if (from) return bundles.has(path);
        return existsSync(join(root, source, posix.relative(dest, path)));
      });

    const compose = resolved([BASE]);
    const image = compose.services.ingest!.image;
    const cmd = JSON.parse(final.instructions.filter((i) => i.keyword === "CMD").at(-1)!.args) as string[];
    const paths: string[] = [];
    for (const service of Object.values(compose.services).filter((s) => s.image === image)) {
      const argv = service.command ?? cmd;
      paths.push(
        ...(Array.isArray(argv) ? argv : argv.split(" ")).filter((a) => /^[\w.-]+\/[\w./-]+$/.test(a)),
      );
    }
    const setup = readFileSync(join(root, "deploy/setup/setup.sh"), "utf8");
    paths.push(/MAKE_CERTS:-node ([^}\s]+)\}/.exec(setup)?.[1] ?? "MAKE_CERTS default");
    for (const bin of ["agent", "ingest", "live"]) {
      const script = readFileSync(join(root, bin, "bin", `telemetry-${bin}.js`), "utf8");
      const built = /new URL\("\.\.\/(dist\/[^"]+)"/.exec(script)?.[1] ?? "its bundle";
      paths.push(posix.join(bin, built));
    }
    assert.ok(paths.length > 8, paths.join(", "));
    for (const path of paths) assert.ok(inImage(path), `${path} is in the image`);
  });

  it("builds the same bundles that `npm run build` produces", async () => {
    assert.ok(buildStage);
    const work = mkdtempSync(join(tmpdir(), "dockerfile-build-"));

    // The build stage replayed without Docker: its COPY steps take files from a context filtered by
    // .dockerignore into the stage's WORKDIR, its RUN steps run there with its ENV.
    const contextDir = join(work, "context");
    copyFiles(context, contextDir);
    const stageRoot = join(work, "stage");
    let workdir = "/";
    const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work };
    const inStage = (p: string) => join(stageRoot, isAbsolute(p) ? p : posix.join(workdir, p));
    for (const { keyword, args } of buildStage.instructions) {
      if (keyword === "WORKDIR") {
        workdir = posix.resolve(workdir, args);
        mkdirSync(inStage("."), { recursive: true });
      } else if (keyword === "ENV") {
        const [name, ...value] = args.includes("=") ? args.split("=") : args.split(/\s+/);
        env[name!] = value.join(args.includes("=") ? "=" : " ");
      } else if (keyword === "COPY") {
        const { from, sources, dest } = copyArgs(args);
        assert.equal(from, undefined, "the build stage copies from the context only");
        const intoDir = dest.endsWith("/") || sources.length > 1;
        for (const source of sources) {
          const target = intoDir ? join(inStage(dest), posix.basename(source)) : inStage(dest);
          // A directory's contents go to the destination, as Docker does.
          cpSync(
            join(contextDir, source),
            statSync(join(contextDir, source)).isDirectory() ? inStage(dest) : target,
            {
              recursive: true,
            },
          );
        }
      } else if (keyword === "RUN") {
        if (/^npm ci\b/.test(args)) {
          // What `npm ci` would install from the lockfile the stage holds is this checkout's
          // node_modules, installed from the same lockfile: linked, not downloaded again.
          assert.equal(
            readFileSync(inStage("package-lock.json"), "utf8"),
            readFileSync(join(root, "package-lock.json"), "utf8"),
          );
          linkDependencies(inStage("."));
        } else {
          await run("sh", ["-c", args], { cwd: inStage("."), env, timeout: 120_000 });
        }
      }
    }

    // The reference: the whole project, built by the project's own script.
    const reference = join(work, "reference");
    copyFiles(projectFiles(), reference);
    linkDependencies(reference);
    await run("npm", ["run", "--silent", "build"], { cwd: reference, env, timeout: 120_000 });

    const outputs = (dir: string) =>
      [...new Set(PROGRAM_BUNDLES.map((p) => p.workspace))].flatMap((w) =>
        listTree(join(dir, w, "dist")).map((f) => posix.join(w, "dist", f)),
      );
    const files = outputs(inStage("."));
    for (const program of PROGRAM_BUNDLES)
      assert.ok(
        files.includes(posix.join(program.workspace, program.outfile)),
        `${program.outfile} is built`,
      );
    assert.deepEqual(files, outputs(reference));
    for (const file of files)
      assert.ok(
        readFileSync(inStage(file)).equals(readFileSync(join(reference, file))),
        `${file} is identical`,
      );
  });
});
