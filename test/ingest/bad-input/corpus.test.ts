import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeMessage } from "@cluster-telemetry/contract";
import { BAD_INPUTS, ODD_BUT_VALID } from "./corpus.ts";

// The corpus against the contract alone, so that a schema change that makes a case test something
// else fails here, by name, before the end-to-end run.
describe("the bad-input corpus", () => {
  const now = Date.now();
  for (const [i, input] of BAD_INPUTS.entries())
    it(`is refused by the contract as ${input.code}: ${input.name}`, () => {
      for (const { topic, payload, retain } of input.messages(`c${i}-corpus`, now)) {
        const decoded = decodeMessage(topic, payload, { now, retained: retain ?? false });
        assert.equal(decoded.ok ? "accepted" : decoded.code, input.code, decoded.ok ? "" : decoded.reason);
      }
    });
  for (const odd of ODD_BUT_VALID)
    it(`is accepted by the contract: ${odd.name}`, () => {
      const decoded = decodeMessage(`telemetry/v2/odd-corpus/${odd.metric}`, odd.payload("odd-corpus", now), {
        now,
      });
      assert.ok(decoded.ok, decoded.ok ? "" : decoded.reason);
    });
});
