import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DEAD_LETTER_DATASET,
  METRIC_NAMES,
  STATUS_LEVEL,
  dataStreamFor,
  datasetFor,
  deadLetterStreamFor,
  deadLetterTemplateFor,
  indexTemplateFor,
  telemetryStreamsPattern,
} from "@cluster-telemetry/contract";

// The names Kibana's data view, the Elasticsearch roles and operators' queries are written against:
// changing one is a change of the contract, and this says so.
describe("data stream names", () => {
  it("puts a metric's samples in metrics-telemetry.<metric>-<namespace>, statuses beside them", () => {
    assert.equal(dataStreamFor("cpu", "default"), "metrics-telemetry.cpu-default");
    assert.equal(dataStreamFor(STATUS_LEVEL, "prod_eu"), "metrics-telemetry.status-prod_eu");
  });

  it("names each stream after its ECS event.dataset", () => {
    for (const kind of [...METRIC_NAMES, STATUS_LEVEL])
      assert.equal(dataStreamFor(kind, "ns"), `metrics-${datasetFor(kind)}-ns`);
  });

  it("puts dead letters in logs-telemetry.deadletter-<namespace>, outside the samples' pattern", () => {
    assert.equal(DEAD_LETTER_DATASET, "telemetry.deadletter");
    assert.equal(deadLetterStreamFor("default"), "logs-telemetry.deadletter-default");
    assert.equal(telemetryStreamsPattern("default"), "metrics-telemetry.*-default");
    assert.ok(!deadLetterStreamFor("default").startsWith("metrics-telemetry."));
  });

  it("names the index templates telemetry-<kind>-<namespace> and telemetry-deadletter-<namespace>", () => {
    assert.equal(indexTemplateFor("load", "default"), "telemetry-load-default");
    assert.equal(deadLetterTemplateFor("default"), "telemetry-deadletter-default");
  });
});
