import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  SUBSCRIPTION,
  hostNameProblem,
  parseTopic,
  sampleTopic,
  statusTopic,
} from "@cluster-telemetry/contract";

describe("the topic tree", () => {
  it("puts samples at telemetry/v1/<host>/<metric> and status at telemetry/v1/<host>/status", () => {
    assert.equal(sampleTopic("rpi-4", "temperature"), "telemetry/v1/rpi-4/temperature");
    assert.equal(statusTopic("rpi-4"), "telemetry/v1/rpi-4/status");
    assert.equal(SUBSCRIPTION, "telemetry/v1/+/+");
  });

  it("parses a topic back into host and kind", () => {
    assert.deepEqual(parseTopic("telemetry/v1/node-7.example/cpu"), {
      ok: true,
      host: "node-7.example",
      kind: "cpu",
    });
  });

  for (const bad of ["", "a/b", "a+b", "a#", "-leading-dash", "has space", "x".repeat(254), "nul\0"]) {
    it(`refuses ${JSON.stringify(bad.length > 20 ? `${bad.slice(0, 8)}…` : bad)} as a host name`, () => {
      assert.notEqual(hostNameProblem(bad), undefined);
    });
  }

  it("accepts ordinary host names", () => {
    for (const good of ["node1", "rpi-4", "db01.rack-2.example.com", "Worker_3"]) {
      assert.equal(hostNameProblem(good), undefined);
    }
  });
});
