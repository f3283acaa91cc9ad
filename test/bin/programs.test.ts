import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { TOPIC_ROOT } from "@cluster-telemetry/contract";

const root = resolve(import.meta.dirname, "..", "..");
// Each README's commands run from its package's directory, where its bin/ is.
const agentDir = resolve(root, "agent");
const run = promisify(execFile);

/** The commands a README's "Running it by hand" block shows, one per line, run in the README's folder. */
function byHand(readme: string): string[] {
  const text = readFileSync(resolve(root, readme), "utf8");
  const section = text.slice(text.indexOf("## Running it by hand"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  return block.trim().split("\n");
}

/** Each option of a --help text with its description, continuation lines joined. */
function options(help: string): Map<string, string> {
  const entries = new Map<string, string>();
  let current: string | undefined;
  for (const line of help.slice(help.indexOf("Options:")).split("\n").slice(1)) {
    const start = /^ {2}(?:-\w, )?(--[a-z-]+)/.exec(line);
    if (start) {
      current = start[1]!;
      entries.set(current, line.trim());
    } else if (current && line.startsWith("   "))
      entries.set(current, `${entries.get(current)} ${line.trim()}`);
  }
  return entries;
}

describe("running the programs by hand", () => {
  it("the agent README's command prints one sample as JSON lines, and so does the npx form with --", async () => {
    const once = byHand("agent/README.md").find((c) => c.endsWith("--once"));
    assert.equal(once, "./bin/telemetry-agent.js --once");
    for (const argv of [["--once"], ["--", "--once"]]) {
      const { stdout } = await run(resolve(agentDir, "bin/telemetry-agent.js"), argv, { cwd: agentDir });
      const lines = stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { topic: string });
      assert.ok(lines.some((l) => l.topic.endsWith("/cpu")));
      assert.ok(lines.every((l) => l.topic.startsWith(`${TOPIC_ROOT}/`)));
    }
  });

  it("the agent's --once ends quietly when its reader closes the pipe, as `| head -1` does", async () => {
    const child = spawn(resolve(agentDir, "bin/telemetry-agent.js"), ["--once"], {
      cwd: agentDir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    assert.equal(code, 0);
    assert.doesNotMatch(stderr, /EPIPE|Error|\n\s+at /);
  });

  it("--help of each program gives every option a description and its default, and the agent's names simulate", async () => {
    for (const readme of ["agent/README.md", "ingest/README.md"]) {
      const command = byHand(readme).find((c) => c.endsWith("--help"))!;
      const [program, ...args] = command.split(" ");
      const dir = resolve(root, dirname(readme));
      const { stdout } = await run(resolve(dir, program!), args, { cwd: dir });
      const entries = options(stdout);
      assert.ok(entries.size > 10, `${program} lists its options`);
      for (const [flag, entry] of entries) {
        if (flag === "--help" || flag === "--version") continue;
        assert.match(entry, /^--\S+(?: <[^>]+>)?\s+\S.*default: \S/, `${program} ${flag}: ${entry}`);
      }
      if (program!.includes("agent")) assert.match(stdout, /telemetry-agent simulate/);
    }
  });

  it("the ingest refuses a retention Elasticsearch would not take, at start, with exit code 2", async () => {
    await assert.rejects(
      run(resolve(root, "ingest/bin/telemetry-ingest.js"), ["--retention", "forever"], { cwd: root }),
      (error: { code?: number; stderr?: string }) => {
        assert.equal(error.code, 2);
        assert.match(
          error.stderr ?? "",
          /--retention: must be a duration such as 10s, 500ms or 7d .*\(got forever\)/,
        );
        return true;
      },
    );
  });
});
