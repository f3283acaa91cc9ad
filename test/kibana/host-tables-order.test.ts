import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Client } from "@elastic/elasticsearch";
import mqtt from "mqtt";
import { MosquittoService, sharedServices, uniqueName } from "@cluster-telemetry/dev-stack";
import { countOf, waitFor, type IngestProcess } from "../ingest/fleet.ts";
import { startDashboardIngest } from "./dashboard-ingest.ts";
import { STEP_MS, documentCount, fleetMessages, type HostScript } from "./fleet-fixture.ts";
import { panel, tableRequest } from "./lens-requests.ts";
import { telemetryStreamsPattern } from "@cluster-telemetry/contract";

/**
 * The host tables on a fleet larger than the 500 rows they fetch: the host that needs attention
 * is last by name, so a table that took the first 500 names would never show it.
 */
const HOSTS = 600;
const name = (i: number) => `host-${String(i).padStart(3, "0")}`;
const interesting = name(HOSTS - 1);

/** Every host reports twice, 30 s apart, at 50 °C; the last by name ran hot at 95 °C and fell silent after one sample. */
const FLEET: HostScript[] = Array.from({ length: HOSTS }, (_, i) =>
  i === HOSTS - 1
    ? { host: name(i), intervalMs: 10_000, cpu: [1], load: [4], celsius: [95] }
    : { host: name(i), intervalMs: 10_000, cpu: [0.25, 0.25], load: [1, 1], celsius: [50, 50] },
);

describe("the host tables on a fleet of 600, the host that matters last by name", () => {
  const services = sharedServices();
  let broker: MosquittoService;
  let ingest: IngestProcess;
  const namespace = uniqueName("kbo");
  const pattern = telemetryStreamsPattern(namespace);
  const es = new Client({ node: services.elasticsearchUrl, requestTimeout: 30_000 });
  const start = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
  const messages = fleetMessages(start, FLEET);
  const documents = documentCount(messages);

  before(async () => {
    broker = await MosquittoService.start({ persistence: "periodic" });
    ingest = await startDashboardIngest(services, broker.url, namespace, 500);
    const client = await mqtt.connectAsync(broker.url, {
      clientId: uniqueName("kibana-600"),
      protocolVersion: 5,
    });
    try {
      for (let i = 0; i < messages.length; i += 500)
        await Promise.all(
          messages.slice(i, i + 500).map((m) => client.publishAsync(m.topic, m.payload, { qos: 1 })),
        );
    } finally {
      await client.endAsync();
    }
    await waitFor(
      `all ${messages.length} messages indexed as ${documents} documents`,
      async () => (await countOf(es, pattern)) === documents,
      60_000,
    );
  });

  after(async () => {
    ingest?.child.kill("SIGKILL");
    await es.close();
    await broker?.process.stop();
  });

  async function rows(title: string) {
    const table = tableRequest(panel(title));
    const response = await es.search({
      index: pattern,
      size: 0,
      query: {
        bool: {
          filter: [
            {
              range: {
                "@timestamp": { gte: start - 60_000, lte: start + 5 * STEP_MS, format: "epoch_millis" },
              },
            },
            ...(table.query ? [table.query] : []),
          ],
        },
      },
      aggs: table.aggs as never,
    });
    return table.read(response.aggregations as Record<string, unknown>);
  }

  it("hosts, hottest first: the hot host tops the table though 599 names sort before it", async () => {
    const table = await rows("Hosts, hottest first");
    assert.equal(table.length, 500, "the table still fetches 500 rows");
    assert.equal(table[0]!.Host, interesting);
    assert.equal(table[0]!.Temperature, 95);
  });

  it("availability, longest silent first: the silent host tops the table though 599 names sort before it", async () => {
    const table = await rows("Host availability, longest silent first");
    assert.equal(table.length, 500);
    assert.equal(table[0]!.Host, interesting);
    assert.equal(table[0]!["Last seen"], start);
    assert.ok(table.slice(1).every((row) => (row["Last seen"] as number) === start + STEP_MS));
  });
});
