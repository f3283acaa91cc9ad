import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  RETIRED_SUBSCRIPTION,
  SUBSCRIPTION,
  decodeMessage,
  hostNameProblem,
  parseTopic,
  sampleTopic,
  statusTopic,
} from "@cluster-telemetry/contract";

describe("the topic tree", () => {
  it("puts samples at telemetry/v2/<host>/<metric> and status at telemetry/v2/<host>/status", () => {
    assert.equal(sampleTopic("rpi-4", "temperature"), "telemetry/v2/rpi-4/temperature");
    assert.equal(statusTopic("rpi-4"), "telemetry/v2/rpi-4/status");
    assert.equal(SUBSCRIPTION, "telemetry/v2/+/+");
  });

  it("parses a topic back into host and kind", () => {
    assert.deepEqual(parseTopic("telemetry/v2/node-7.example/cpu"), {
      ok: true,
      host: "node-7.example",
      kind: "cpu",
    });
  });

  it("names the retired version 1 and its host, so an agent to upgrade is told from a broken one", () => {
    const parsed = parseTopic("telemetry/v1/node-7/cpu");
    assert.equal(parsed.ok, false);
    assert.deepEqual(!parsed.ok && parsed.retired, { host: "node-7", kind: "cpu" });
    assert.match(!parsed.ok ? parsed.reason : "", /contract version 1.*upgrade the agent on host "node-7"/);
    const decoded = decodeMessage("telemetry/v1/node-7/cpu", "{}");
    assert.deepEqual(
      decoded.ok ? undefined : { code: decoded.code, host: decoded.host, kind: decoded.kind },
      { code: "retired_version", host: "node-7", kind: "cpu" },
    );
    assert.equal(RETIRED_SUBSCRIPTION, "telemetry/v1/+/+");
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
