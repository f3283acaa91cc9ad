import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  MAX_PAYLOAD_BYTES,
  METRIC_NAMES,
  decodeMessage,
  sampleTopic,
  schemaProblems,
  statusTopic,
} from "../../../agent/src/contract/index.ts";

const base = {
  "@timestamp": "2026-11-25T01:00:00.000Z",
  host: { name: "node-1", architecture: "arm64" },
  agent: { type: "telemetry-agent", version: "0.1.0" },
};
const load = {
  ...base,
  event: { dataset: "telemetry.load" },
  system: { load: { "1": 0.5, "5": 0.4, "15": 0.3, cores: 4, norm: { "1": 0.125, "5": 0.1, "15": 0.075 } } },
};
const temperature = {
  ...base,
  event: { dataset: "telemetry.temperature" },
  system: { temperature: { celsius: 48.3, max: { celsius: 48.3 }, sensor: "thermal_zone0" } },
};
const status = {
  ...base,
  event: { dataset: "telemetry.status" },
  telemetry: {
    status: "online",
    interval: { ms: 10_000 },
    sensors: { temperature: "none" },
    buffer: { dropped: 0 },
  },
};

describe("decodeMessage", () => {
  it("accepts a well-formed sample and names its host and metric", () => {
    const decoded = decodeMessage(sampleTopic("node-1", "load"), JSON.stringify(load));
    assert.equal(decoded.ok, true);
    assert.equal(decoded.host, "node-1");
    assert.equal(decoded.kind, "load");
  });

  it("accepts a status message on the status topic", () => {
    const decoded = decodeMessage(statusTopic("node-1"), Buffer.from(JSON.stringify(status)));
    assert.equal(decoded.ok, true);
    assert.equal(decoded.kind, "status");
  });

  const rejects: Array<[string, string, string | Uint8Array, RegExp]> = [
    ["a payload that is not JSON", sampleTopic("node-1", "load"), "{oops", /^not JSON/],
    ["an unknown metric", sampleTopic("node-1", "disk"), JSON.stringify(load), /^unknown metric "disk"/],
    [
      "a payload whose host differs from the topic's",
      sampleTopic("node-2", "load"),
      JSON.stringify(load),
      /^spoofed: payload host "node-1" differs from topic host "node-2"/,
    ],
    [
      "a wrong type",
      sampleTopic("node-1", "load"),
      JSON.stringify({ ...load, system: { load: { ...load.system.load, "1": "high" } } }),
      /^schema: \/system\/load\/1 must be number/,
    ],
    [
      "an out-of-range fraction",
      sampleTopic("node-1", "load"),
      JSON.stringify({ ...load, system: { load: { ...load.system.load, cores: 0 } } }),
      /^schema: \/system\/load\/cores must be >= 1/,
    ],
    [
      "a 0 °C reading, which is what a missing sensor reports",
      sampleTopic("node-1", "temperature"),
      JSON.stringify({
        ...temperature,
        system: { temperature: { ...temperature.system.temperature, celsius: 0 } },
      }),
      /^schema: \/system\/temperature\/celsius must NOT be valid/,
    ],
    [
      "a timestamp without milliseconds",
      sampleTopic("node-1", "load"),
      JSON.stringify({ ...load, "@timestamp": "2026-11-25T01:00:00Z" }),
      /^schema: \/@timestamp must match pattern/,
    ],
    [
      "an unknown field",
      sampleTopic("node-1", "load"),
      JSON.stringify({ ...load, extra: 1 }),
      /^schema: \/ must NOT have additional properties/,
    ],
    [
      "an oversized payload",
      sampleTopic("node-1", "load"),
      "x".repeat(MAX_PAYLOAD_BYTES + 1),
      new RegExp(`^oversized: ${MAX_PAYLOAD_BYTES + 1} bytes, the limit is ${MAX_PAYLOAD_BYTES}`),
    ],
    [
      "a topic outside the tree",
      "other/node-1/load",
      JSON.stringify(load),
      /^bad topic: topic "other\/node-1\/load" is outside/,
    ],
    [
      "a topic with an extra level",
      "telemetry/v1/node-1/load/x",
      JSON.stringify(load),
      /^bad topic: .* is not telemetry\/v1\/<host>\/<metric>/,
    ],
  ];
  for (const [what, topic, payload, reason] of rejects) {
    it(`rejects ${what} with a reason`, () => {
      const decoded = decodeMessage(topic, payload);
      assert.equal(decoded.ok, false);
      assert.match(decoded.ok ? "" : decoded.reason, reason);
    });
  }
});

describe("schemaProblems", () => {
  it("knows a schema for every metric and for status", () => {
    for (const metric of METRIC_NAMES) assert.notEqual(schemaProblems(metric, {}), undefined);
    assert.equal(schemaProblems("status", status), undefined);
  });
});
