import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatDuration, parseDuration } from "@cluster-telemetry/contract/config";

describe("durations", () => {
  it("read a number with a unit as milliseconds", () => {
    assert.equal(parseDuration("500ms"), 500);
    assert.equal(parseDuration("10s"), 10_000);
    assert.equal(parseDuration("1.5m"), 90_000);
    assert.equal(parseDuration("2h"), 7_200_000);
    assert.equal(parseDuration("7d"), 604_800_000);
  });

  it("read a bare number, as text or JSON, as seconds", () => {
    assert.equal(parseDuration("5"), 5000);
    assert.equal(parseDuration("0.25"), 250);
    assert.equal(parseDuration(30), 30_000);
  });

  it("are undefined for a bad unit or no number", () => {
    assert.equal(parseDuration("5x"), undefined);
    assert.equal(parseDuration("soon"), undefined);
    assert.equal(parseDuration(""), undefined);
    assert.equal(parseDuration("10 s"), undefined);
  });

  it("print as the shortest exact text", () => {
    assert.equal(formatDuration(10_000), "10s");
    assert.equal(formatDuration(1500), "1500ms");
    assert.equal(formatDuration(604_800_000), "7d");
    assert.equal(formatDuration(0), "0s");
  });
});
