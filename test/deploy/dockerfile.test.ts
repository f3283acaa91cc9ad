import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, posix, relative, resolve } from "node:path";
import { before, describe, it } from "node:test";
import { promisify } from "node:util";

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

const dockerfileText = readFileSync(join(root, "Dockerfile"), "utf8");
const parsed = stages(dockerfileText);
const ignored = dockerignore(readFileSync(join(root, ".dockerignore"), "utf8"));

describe("Dockerfile", () => {
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
    assert.match(keywords("CMD").at(-1)?.args ?? "", /bin\/telemetry-ingest\.js/);
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
      "dist/ingest/src/main.js",
      ".git/HEAD",
      ".env",
      "deploy/.env",
      "test/harness/elasticsearch/target/classes/x.class",
    ])
      assert.ok(ignored(path), `${path} is not sent to the builder`);
    for (const path of ["package.json", "package-lock.json", "ingest/src/main.ts", "bin/telemetry-ingest.js"])
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

  it("builds the same dist/ that `npm run build` produces", async () => {
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
          symlinkSync(join(root, "node_modules"), inStage("node_modules"));
        } else {
          await run("sh", ["-c", args], { cwd: inStage("."), env, timeout: 120_000 });
        }
      }
    }

    // The reference: the whole project, built by the project's own script.
    const reference = join(work, "reference");
    copyFiles(projectFiles(), reference);
    symlinkSync(join(root, "node_modules"), join(reference, "node_modules"));
    await run("npm", ["run", "--silent", "build"], { cwd: reference, env, timeout: 120_000 });

    const built = inStage("dist");
    const expected = join(reference, "dist");
    const files = listTree(built);
    assert.ok(files.includes("ingest/src/main.js") && files.includes("agent/src/main.js"));
    assert.deepEqual(files, listTree(expected));
    for (const file of files)
      assert.ok(
        readFileSync(join(built, file)).equals(readFileSync(join(expected, file))),
        `${file} is identical`,
      );
  });
});
