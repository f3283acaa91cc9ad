import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeMessage, sampleTopic } from "@cluster-telemetry/contract";
import { benchLoadSample } from "../../../ingest/bench/load-sample.ts";

describe("the benches' own load sample", () => {
  it("is a valid sample of the contract, so the benches measure indexing, not dead letters", () => {
    const now = Date.now();
    const decoded = decodeMessage(
      sampleTopic("bench-1", "load"),
      JSON.stringify(benchLoadSample("bench-1", now)),
      {
        now,
      },
    );
    assert.ok(decoded.ok, decoded.ok ? "" : decoded.reason);
  });
});
