import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { measureImportCosts } from "../../../agent/bench/import-costs.ts";

describe("bench:agent's import costs, run once", () => {
  it("bundles and loads every part of the agent's import graph, the contract included, and measures it", async () => {
    const costs = await measureImportCosts();
    assert.ok(costs.some((c) => c.name.startsWith("the contract")));
    for (const cost of costs) {
      assert.ok(cost.rssMb > 0 && Number.isFinite(cost.loadMs), `${cost.name}: ${JSON.stringify(cost)}`);
    }
  });
});
