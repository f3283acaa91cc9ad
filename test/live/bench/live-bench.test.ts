import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { spawnProgram } from "@cluster-telemetry/dev-stack";

// The live benchmark, run small: its own broker, a simulated fleet, telemetry-live and Chromium.
// The full-size figures (5,000 hosts) are in live/README.md.
describe("npm run bench:live, run small", () => {
  it("prints every figure beside its goal", async () => {
    const run = spawnProgram("live/bench/live-bench.ts", [
      "--hosts",
      "200",
      "--seconds",
      "4",
      "--warmup",
      "1",
    ]);
    const code = await run.exited;
    const output = run.output();
    assert.equal(code, 0, output.slice(-3000));
    for (const figure of [
      /\| messages received per second \| [1-9]\d* \|/,
      /\| CPU µs per message \(telemetry-live\) \| [\d.]+ \| ≤ 15 \| (met|MISSED) \|/,
      /\| resident memory \(200 hosts\) \| \d+ MiB \|/,
      /\| bytes per second per browser \| \d+ \| ≤ 50000 \| (met|MISSED) \|/,
      /\| row elements in the page \(virtualised\) \| \d+ for 200 hosts \|/,
      /\| browser main thread busy \(share of one core\) \| [\d.]+ % \| ≤ 10 % \| (met|MISSED) \|/,
    ])
      assert.match(output, figure);
    const summary = JSON.parse(output.split("\n").find((l) => l.includes('"event":"live_bench"'))!) as {
      messages: number;
    };
    assert.ok(summary.messages > 0, "telemetry-live received the fleet's messages");
  });
});
