import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ConfigError, loadIngestConfig } from "../../../ingest/src/config/ingest-config.ts";
import { spawnIngest } from "../fleet.ts";

const dir = mkdtempSync(join(tmpdir(), "ingest-config-"));
const problemsOf = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  try {
    loadIngestConfig(argv, env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
};

describe("the ingest's configuration", () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("installs the index templates unless told a setup step does (least-privilege credentials)", () => {
    assert.equal(loadIngestConfig([], {}).installTemplates, true);
    assert.equal(loadIngestConfig([], { INGEST_INSTALL_TEMPLATES: "false" }).installTemplates, false);
    assert.equal(loadIngestConfig(["--install-templates", "true"], {}).installTemplates, true);
    assert.deepEqual(problemsOf([], { INGEST_INSTALL_TEMPLATES: "maybe" }), [
      "INGEST_INSTALL_TEMPLATES: must be true or false (got maybe)",
    ]);
  });

  it("takes flags over environment variables over the config file, and reads secrets from files", () => {
    const file = join(dir, "c.json");
    writeFileSync(
      file,
      JSON.stringify({ batchSize: 10, namespace: "fromfile", redisUrl: "redis://file:6379" }),
    );
    const key = join(dir, "key");
    writeFileSync(key, "c2VjcmV0\n");
    const config = loadIngestConfig(
      ["--config", file, "--batch-size", "20", "--elasticsearch-api-key-file", key],
      {
        INGEST_NAMESPACE: "fromenv",
      },
    );
    assert.equal(config.batchSize, 20);
    assert.equal(config.namespace, "fromenv");
    assert.equal(config.redisUrl, "redis://file:6379");
    assert.equal(config.elasticsearchApiKey, "c2VjcmV0");
  });

  it("lists every invalid value at once", () => {
    const problems = problemsOf(
      [
        "--batch-size",
        "0",
        "--namespace",
        "Bad-NS",
        "--low-water",
        "10",
        "--high-water",
        "5",
        "--stage-linger",
        "500ms",
      ],
      {
        REDIS_URL: "http://nope",
      },
    );
    assert.ok(
      problems.some((p) => /^--batch-size: must be at least 1 \(got 0\)$/.test(p)),
      problems.join("\n"),
    );
    assert.ok(
      problems.some((p) => /^--namespace: must be lower-case letters, digits and _ \(got Bad-NS\)$/.test(p)),
      problems.join("\n"),
    );
    assert.ok(
      problems.some((p) => /--low-water \(10\) must be below --high-water \(5\)/.test(p)),
      problems.join("\n"),
    );
    assert.ok(
      problems.some((p) => /^--stage-linger: must be at most 100ms \(got 500ms\)$/.test(p)),
      problems.join("\n"),
    );
    assert.ok(
      problems.some((p) =>
        /^REDIS_URL: must be a URL starting with redis:\/\/, rediss:\/\/ \(got http:\/\/nope\)$/.test(p),
      ),
      problems.join("\n"),
    );
  });

  it("rejects unknown keys in the config file and unreadable secret files", () => {
    const file = join(dir, "unknown.json");
    writeFileSync(file, JSON.stringify({ batchsize: 10 }));
    assert.match(problemsOf(["--config", file]).join("\n"), /unknown keys batchsize/);
    assert.match(
      problemsOf(["--mqtt-password-file", join(dir, "none")]).join("\n"),
      /--mqtt-password-file: cannot read .*none \(ENOENT\)/,
    );
  });

  it("exits with code 2 and the list of problems", async () => {
    const ingest = spawnIngest(["--flush-interval", "soon"], {});
    assert.equal(await ingest.exited, 2);
    assert.match(
      ingest.output(),
      /^telemetry-ingest: invalid configuration:\n {2}- --flush-interval: must be a duration such as 10s/,
    );
  });
});
