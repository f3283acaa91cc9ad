import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";

const root = resolve(import.meta.dirname, "..", "..");
const run = promisify(execFile);

/** The commands a README's "Running it by hand" block shows, one per line. */
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
      const { stdout } = await run(resolve(root, "bin/telemetry-agent.js"), argv, { cwd: root });
      const lines = stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { topic: string });
      assert.ok(lines.some((l) => l.topic.endsWith("/cpu")));
      assert.ok(lines.every((l) => l.topic.startsWith("telemetry/v2/")));
    }
  });

  it("the agent's --once ends quietly when its reader closes the pipe, as `| head -1` does", async () => {
    const agent = spawn(resolve(root, "bin/telemetry-agent.js"), ["--once"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    agent.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    agent.stdout.once("data", () => agent.stdout.destroy());
    const code = await new Promise<number | null>((r) => agent.once("exit", (c) => r(c)));
    assert.equal(code, 0);
    assert.doesNotMatch(stderr, /EPIPE|Error|\n\s+at /);
  });

  it("--help of each program gives every option a description and its default, and the agent's names simulate", async () => {
    for (const readme of ["agent/README.md", "ingest/README.md"]) {
      const command = byHand(readme).find((c) => c.endsWith("--help"))!;
      const [program, ...args] = command.split(" ");
      const { stdout } = await run(resolve(root, program!), args, { cwd: root });
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
      run(resolve(root, "bin/telemetry-ingest.js"), ["--retention", "forever"], { cwd: root }),
      (error: { code?: number; stderr?: string }) => {
        assert.equal(error.code, 2);
        assert.match(error.stderr ?? "", /retention must be a whole number and d, h, m or s, e\.g\. 30d/);
        return true;
      },
    );
  });
});
