import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classifyBulkItems, refusedAsAWhole, retryDelay } from "../../../ingest/src/indexer/bulk-outcome.ts";

describe("classifying a bulk response item by item", () => {
  it("counts 201 as accepted", () => {
    assert.deepEqual(classifyBulkItems([{ status: 201 }]), {
      accepted: [0],
      duplicates: [],
      retry: [],
      rejected: [],
    });
  });

  it("counts 409 as done and as a duplicate: the sample is already indexed", () => {
    assert.deepEqual(
      classifyBulkItems([{ status: 409, error: { type: "version_conflict_engine_exception" } }]),
      {
        accepted: [0],
        duplicates: [0],
        retry: [],
        rejected: [],
      },
    );
  });

  it("retries 429, 5xx and 403", () => {
    const outcome = classifyBulkItems([{ status: 429 }, { status: 503 }, { status: 500 }, { status: 403 }]);
    assert.deepEqual(outcome.retry, [0, 1, 2, 3]);
    assert.deepEqual(outcome.accepted, []);
  });

  it("rejects 400 with Elasticsearch's type and reason", () => {
    const outcome = classifyBulkItems([
      { status: 201 },
      {
        status: 400,
        error: { type: "document_parsing_exception", reason: "failed to parse field [@timestamp]" },
      },
    ]);
    assert.deepEqual(outcome.rejected, [
      { position: 1, type: "document_parsing_exception", reason: "failed to parse field [@timestamp]" },
    ]);
    assert.deepEqual(outcome.accepted, [0]);
  });

  it("names an unexplained 4xx by its status", () => {
    assert.deepEqual(classifyBulkItems([{ status: 404 }]).rejected, [
      { position: 0, type: "http_404", reason: "status 404" },
    ]);
  });
});

describe("classifying a failed bulk request as a whole", () => {
  it("takes 400 as a refusal of the request itself: a line breaks the NDJSON framing", () => {
    assert.equal(refusedAsAWhole(400), true);
  });

  it("takes 413 as a refusal of the request itself: the body is too large", () => {
    assert.equal(refusedAsAWhole(413), true);
  });

  it("takes any other 4xx, such as 404, as a refusal of the request itself", () => {
    assert.equal(refusedAsAWhole(404), true);
  });

  it("retries 401 and 403: the credentials, not the documents, are at fault", () => {
    assert.deepEqual([401, 403].map(refusedAsAWhole), [false, false]);
  });

  it("retries 408 and 429: Elasticsearch asks to come back later", () => {
    assert.deepEqual([408, 429].map(refusedAsAWhole), [false, false]);
  });

  it("retries 5xx: a restarting node or an overloaded cluster", () => {
    assert.deepEqual([500, 502, 503, 504].map(refusedAsAWhole), [false, false, false, false]);
  });

  it("does not take a success or a redirect for a refusal", () => {
    assert.deepEqual([200, 201, 301].map(refusedAsAWhole), [false, false, false]);
  });
});

describe("retry delays", () => {
  it("double from 200 ms with jitter between half and all of the step, capped at 30 s", () => {
    assert.equal(
      retryDelay(0, () => 0),
      100,
    );
    assert.equal(
      retryDelay(0, () => 1),
      200,
    );
    assert.equal(
      retryDelay(3, () => 1),
      1600,
    );
    assert.equal(
      retryDelay(50, () => 1),
      30_000,
    );
  });
});
