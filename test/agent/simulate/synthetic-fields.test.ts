import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { METRIC_NAMES, decodeMessage, entityKeyOf, sampleMessage } from "@cluster-telemetry/contract";
import { syntheticFields } from "../../../agent/src/simulate/synthetic-fields.ts";
import { seededRandom } from "../../../agent/src/simulate/virtual-host.ts";

const origin = {
  host: { name: "synthetic" },
  agent: { type: "telemetry-simulator", version: "test" },
  periodMs: 10_000,
};

describe("values drawn from a metric's schema", () => {
  it("are a valid sample of every metric of the contract, whatever the seed", () => {
    for (const metric of METRIC_NAMES) {
      for (let seed = 0; seed < 50; seed++) {
        const message = sampleMessage(metric, origin, syntheticFields(metric, seededRandom(seed)));
        const decoded = decodeMessage(message.topic, message.payload);
        assert.ok(decoded.ok, `${metric}, seed ${seed}: ${decoded.ok ? "" : decoded.reason}`);
      }
    }
  });

  it("give every entity of a per-entity metric its own key", () => {
    for (const metric of METRIC_NAMES) {
      const key = entityKeyOf(metric);
      if (key === undefined) continue;
      const entities = syntheticFields(metric, seededRandom(1)) as unknown as Array<Record<string, unknown>>;
      assert.ok(entities.length >= 2, `${metric}: at least two entities`);
      assert.equal(new Set(entities.map((e) => e[key])).size, entities.length, `${metric}: distinct ${key}`);
    }
  });
});
