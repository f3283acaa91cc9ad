import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { spawnProgram } from "@cluster-telemetry/dev-stack";

// The capacity benchmark and the soak, run small: they start their own services, drive a simulated
// fleet through the built programs, and fail on any loss. Their full-size figures are in docs/.
describe("the scale scripts, run small", () => {
  it("npm run soak: kills and restarts each service under load, and finds every acknowledged sample indexed once", async () => {
    const run = spawnProgram("ingest/bench/soak.ts", [
      "--minutes",
      "1",
      "--hosts",
      // About 1,300 documents a second: a simulated host makes some 33 documents an interval (its
      // cores and sensor inputs are one document each), 8 times the 4 it made before them.
      "40",
      "--seed",
      "42",
      "--gap",
      "3",
    ]);
    const code = await run.exited;
    const output = run.output();
    assert.equal(code, 0, output.slice(-3000));
    assert.match(output, /\| lost \(acknowledged, not indexed\) \| 0 \|/);
    assert.match(output, /\| extra \(indexed more than once, or never acknowledged\) \| 0 \|/);
    for (const victim of ["ingest", "redis", "broker", "elasticsearch"])
      assert.match(output, new RegExp(`${victim} back`), `${victim} was restarted`);
  });

  it("npm run bench:capacity: ramps until the pipeline falls behind and reports every figure, with no loss", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "capacity-")), "results.md");
    const run = spawnProgram("ingest/bench/capacity/main.ts", [
      "--step-seconds",
      "10",
      // Hosts of some 33 documents an interval each (see the soak above).
      "--start-hosts",
      "60",
      "--max-hosts",
      "120",
      // Warm-up only makes the full-size figures comparable; a smoke run needs the path, not the heat.
      "--warmup-docs",
      "20000",
      "--pair-seconds",
      "5",
      "--latency-seconds",
      "9",
      "--disk-docs",
      "20000",
      "--rounds",
      "2",
      "--out",
      out,
    ]);
    const code = await run.exited;
    assert.equal(code, 0, run.output().slice(-3000));
    const report = readFileSync(out, "utf8");
    for (const figure of [
      /\| documents\/s \(sustained, \d+ hosts\) \| \d+ \| \d+ \| [\d.]+ \|/,
      /documents per Elasticsearch CPU-second, at the same rate \(\d+ hosts\) \| \d+ \| \d+ \| [\d.]+ \|/,
      /CPU µs per message outside Elasticsearch \(broker \+ ingest \+ Redis\) \| [\d.]+ \|/,
      /the floor under it: broker \+ a subscriber that only acknowledges \(\d+ hosts, Elasticsearch idle\) \| [\d.]+ \|/,
      /broker [\d.]+ µs per message, [\d.]+ of them in the kernel \(sockets, epoll\), and subscriber [\d.]+ µs/,
      /Redis commands per message \| [\d.]+ \|/,
      /documents per bulk request \| \d+ \|/,
      /Redis memory per queued sample \| \d+ bytes \|/,
      /disk per document, merged, time series data stream \| \d+ bytes \|/,
      /\| 50% of sustained \| \d+ \| \d+ \| \d+ \|/,
      /\| 90% of sustained \| \d+ \| \d+ \| \d+ \|/,
    ])
      assert.match(report, figure);
    const [, acked, indexed] =
      /(\d+) documents in the messages the broker acknowledged, (\d+) documents indexed/.exec(report) ?? [];
    assert.ok(Number(acked) > 0);
    assert.equal(indexed, acked);
  });
});
