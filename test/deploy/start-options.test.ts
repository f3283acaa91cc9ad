import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { ConfigError, ConfigExit } from "@cluster-telemetry/contract/config";
import { parseStartOptions } from "../../deploy/local/start-options.ts";

const root = resolve(import.meta.dirname, "..", "..");

function help(): string {
  try {
    parseStartOptions(["--help"], {});
  } catch (error) {
    if (error instanceof ConfigExit) return error.output;
  }
  throw new Error("--help printed nothing");
}

describe("npm start's options", () => {
  it("are the flags and environment variables the README's table lists, each with its default in --help", () => {
    const readme = readFileSync(resolve(root, "README.md"), "utf8");
    const table = [...readme.matchAll(/^\| `(--[a-z-]+)[^`]*` +\| `?([A-Z_]*)`? +\|/gm)].map((m) => [
      m[1],
      m[2],
    ]);
    const text = help();
    const flags = [...text.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]);
    assert.deepEqual(table.map(([flag]) => flag).sort(), flags.sort());
    for (const [flag, env] of table) {
      const entry = text
        .slice(text.indexOf(`  ${flag}`))
        .split(/\n {2}-/)[0]!
        .replace(/\s+/g, " ");
      assert.match(entry, /default: /, `${flag} states its default`);
      if (env) assert.ok(entry.includes(`env: ${env}`), `${flag} names ${env}`);
    }
  });

  it("rejects an interval below a second and a namespace Elasticsearch would refuse, both at once", () => {
    assert.throws(
      () => parseStartOptions(["--interval", "0", "--namespace", "Bad-Name"], {}),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 2);
        return true;
      },
    );
  });
});
