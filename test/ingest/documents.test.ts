import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeMessage, sampleMessage, statusWireMessage, status } from "@cluster-telemetry/contract";
import { deadLetterDocument, sampleDocuments, textWithIngested } from "../../ingest/src/documents.ts";

const origin = (agentType = "telemetry-agent") => ({
  host: { name: "doc-node", id: "0123456789abcdef0123456789abcdef" },
  agent: { type: agentType, version: "test" },
  periodMs: 10_000,
});
const load = { "1": 0.5, "5": 0.4, "15": 0.3, cores: 2, norm: { "1": 0.25, "5": 0.2, "15": 0.15 } };
const receivedAt = Date.parse("2026-12-02T10:00:00.123Z");

function decoded(topic: string, payload: Buffer | string) {
  const result = decodeMessage(topic, payload);
  assert.ok(result.ok, result.ok ? "" : result.reason);
  return result;
}

describe("documents the ingest writes", () => {
  it("are the sample as received with event.ingested, the moment the ingest received it", () => {
    const message = sampleMessage("load", origin(), load, receivedAt - 2000);
    const sample = decoded(message.topic, message.payload);
    const [document] = sampleDocuments(sample, "default", receivedAt);
    const source = JSON.parse(document!.source) as { event: Record<string, unknown> };
    assert.deepEqual(source, {
      ...sample.message,
      event: { ...sample.message.event, ingested: "2026-12-02T10:00:00.123Z" },
    });
  });

  it("put event.ingested in the top-level event even when a text field spells an event object", () => {
    const message = sampleMessage("load", origin('x,"event":{"y'), load, receivedAt - 2000);
    const sample = decoded(message.topic, message.payload);
    const source = JSON.parse(sampleDocuments(sample, "default", receivedAt)[0]!.source) as {
      agent: { type: string };
      event: { ingested: string };
    };
    assert.equal(source.agent.type, 'x,"event":{"y');
    assert.equal(source.event.ingested, "2026-12-02T10:00:00.123Z");
  });

  it("stamp a pretty-printed payload, stored compact, and an event that comes first", () => {
    const message = sampleMessage("load", origin(), load, receivedAt - 2000);
    const { event, ...rest } = JSON.parse(message.payload.toString()) as Record<string, unknown>;
    const sample = decoded(message.topic, JSON.stringify({ event, ...rest }, null, 2));
    const source = JSON.parse(sampleDocuments(sample, "default", receivedAt)[0]!.source) as {
      event: Record<string, unknown>;
    };
    assert.deepEqual(source.event, { ...(event as object), ingested: "2026-12-02T10:00:00.123Z" });
    assert.equal(textWithIngested('{"event":{}}', "t"), '{"event":{"ingested":"t"}}');
  });

  it("give statuses strictly increasing event.ingested, in the order they arrived", () => {
    const online = statusWireMessage(
      status(origin(), { status: "online", interval: { ms: 10_000 }, sensors: {}, buffer: { dropped: 0 } }),
    );
    const statusOf = () =>
      JSON.parse(
        sampleDocuments(decoded(online.topic, online.payload), "default", receivedAt)[0]!.source,
      ) as {
        event: { ingested: string };
      };
    const first = statusOf().event.ingested;
    const second = statusOf().event.ingested;
    assert.ok(second > first, `${second} after ${first}`);
  });

  it("include dead letters, stamped when they were refused", () => {
    const before = new Date().toISOString();
    const letter = JSON.parse(
      deadLetterDocument(
        "telemetry/v1/doc-node/load",
        "{}",
        "retired_version: …",
        "default",
        "doc-node",
        "retired_version",
      ).source,
    ) as { event: { ingested: string; module: string } };
    assert.ok(letter.event.ingested >= before);
    assert.equal(letter.event.module, "telemetry");
  });
});
