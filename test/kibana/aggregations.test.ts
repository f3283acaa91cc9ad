import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Client } from "@elastic/elasticsearch";
import mqtt from "mqtt";
import {
  dataStreamFor,
  deadLetterStreamFor,
  decodeMessage,
  sampleTopic,
  telemetryStreamsPattern,
} from "@cluster-telemetry/contract";
import { MosquittoService, sharedServices, uniqueName } from "@cluster-telemetry/dev-stack";
import { countOf, waitFor, type IngestProcess } from "../ingest/fleet.ts";
import { startDashboardIngest } from "./dashboard-ingest.ts";
import {
  CORES,
  FLEET,
  STEP_MS,
  average,
  coreBusy,
  documentCount,
  fleetMessages,
  lastSeen,
  type HostScript,
} from "./fleet-fixture.ts";
import { lineChartRequest, panel, referenceLines, tableRequest } from "./lens-requests.ts";
import { controlsOf, dashboardsOf, indexPatternMatches, readSavedObjects } from "./saved-objects.ts";

/**
 * The dashboard's panels, as the aggregations Lens sends for them, run on data that went the real
 * way: MQTT → telemetry-ingest → Elasticsearch data streams.
 */
describe("the dashboard's aggregations on ingested telemetry", () => {
  const shared = sharedServices();
  const services = { ...shared, mqttUrl: "" };
  let broker: MosquittoService;
  const namespace = uniqueName("kb");
  // The dashboard's pattern, narrowed to this file's namespace so other tests' data stays out.
  const pattern = telemetryStreamsPattern(namespace);
  const es = new Client({ node: services.elasticsearchUrl, requestTimeout: 30_000 });
  let ingest: IngestProcess;
  // Minute-aligned, so each host's samples 0–1, 2–3, 4–5 share a one-minute bucket.
  const start = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
  // "Now" for the availability panel: the moment of the fleet's last sample.
  const asOf = start + 5 * STEP_MS;
  const timeRange = { range: { "@timestamp": { gte: start - 60_000, lte: asOf, format: "epoch_millis" } } };
  const messages = fleetMessages(start);
  // A per-entity sample becomes one document per entity (filesystem, interface, core).
  const documents = documentCount(messages);
  const host = (name: string) => FLEET.find((h) => h.host === name)!;

  before(async () => {
    broker = await MosquittoService.start();
    services.mqttUrl = broker.url;
    ingest = await startDashboardIngest(shared, services.mqttUrl, namespace, 100);
    const client = await mqtt.connectAsync(services.mqttUrl, {
      clientId: uniqueName("kibana-fleet"),
      protocolVersion: 5,
    });
    try {
      for (const m of messages) await client.publishAsync(m.topic, m.payload, { qos: 1 });
      // A message the ingest rejects: it lands in the dead-letter stream, which the dashboard must not show.
      await client.publishAsync(sampleTopic("node-broken", "cpu"), "{not json", { qos: 1 });
    } finally {
      await client.endAsync();
    }
    await waitFor(
      `all ${messages.length} messages indexed as ${documents} documents`,
      async () => (await countOf(es, pattern)) === documents,
      45_000,
    );
    await waitFor("the dead letter", async () => (await countOf(es, deadLetterStreamFor(namespace))) === 1);
  });

  after(async () => {
    ingest?.child.kill("SIGKILL");
    await es.close();
    await broker?.process.stop();
  });

  /** One search over the data view's indices within the dashboard's time range, as a panel makes it. */
  async function search(aggs: Record<string, unknown>, query?: Record<string, unknown>) {
    const response = await es.search({
      index: pattern,
      size: 0,
      query: { bool: { filter: [timeRange, ...(query ? [query] : [])] } },
      aggs: aggs as never,
    });
    return response.aggregations as Record<string, unknown>;
  }

  /** The expected per-minute line of one host: [minute start, `combine` of the readings in it]. */
  function perMinute(values: number[], combine = average): Array<[number, number]> {
    const minutes = new Map<number, number[]>();
    values.forEach((v, i) => {
      const minute = Math.floor((start + i * STEP_MS) / 60_000) * 60_000;
      minutes.set(minute, [...(minutes.get(minute) ?? []), v]);
    });
    return [...minutes].map(([minute, readings]) => [minute, combine(readings)]);
  }

  it("indexes what the data view spans, and nothing of the dead-letter stream", async () => {
    const dataView = readSavedObjects().objects.find((o) => o.type === "index-pattern")!;
    assert.ok(indexPatternMatches(dataView.attributes.title as string, dataStreamFor("cpu", namespace)));
    assert.equal(indexPatternMatches(pattern, deadLetterStreamFor(namespace)), false);
    for (const m of messages) assert.equal(decodeMessage(m.topic, m.payload).ok, true, m.topic);
    assert.equal(await countOf(es, pattern), documents);
    assert.ok(documents > messages.length, "per-entity samples are several documents each");
  });

  it("CPU busy per host: one line per host, the average of each minute's samples", async () => {
    const request = lineChartRequest(panel("CPU busy per host"), "1m");
    assert.equal(request.metricField, "system.cpu.total.norm.pct");
    const lines = request.read(await search(request.aggs, request.query));
    assert.deepEqual(lines, Object.fromEntries(FLEET.map((h) => [h.host, perMinute(h.cpu)])));
    // Concretely: node-a's first minute holds 25 % and 75 %; load and temperature documents in the
    // same bucket do not count, as they have no CPU field.
    assert.deepEqual(lines["node-a"]![0], [start, 0.5]);
  });

  it("CPU busy per core: for the host picked in the control, one line per core, each core its own values", async () => {
    const request = lineChartRequest(panel("CPU busy per core"), "1m");
    assert.equal(request.metricField, "system.core.total.pct");
    const [control] = controlsOf(dashboardsOf(readSavedObjects().objects)[0]!);
    // Picking node-a in the host control adds this filter to every panel's request.
    const picked = { term: { [control!.fieldName]: "node-a" } };
    const lines = request.read(await search(request.aggs, picked));
    const a = host("node-a");
    assert.deepEqual(
      lines,
      Object.fromEntries(CORES.map((id) => [id, perMinute(a.cpu.map((busy) => coreBusy(busy, id)))])),
    );
    // Concretely: in node-a's first minute (25 % and 75 %) core 0 averaged 50 %, core 3 a quarter of it.
    assert.deepEqual(lines[0]![0], [start, 0.5]);
    assert.deepEqual(lines[3]![0], [start, 0.125]);
  });

  it("CPU temperature per host: averages per minute, and the hot host above the warning line", async () => {
    const chart = panel("CPU temperature per host");
    const request = lineChartRequest(chart, "1m");
    assert.equal(request.metricField, "system.temperature.celsius");
    const lines = request.read(await search(request.aggs, request.query));
    assert.deepEqual(lines, Object.fromEntries(FLEET.map((h) => [h.host, perMinute(h.celsius)])));
    const [warning] = referenceLines(chart);
    assert.equal(warning, 80);
    const above = Object.entries(lines)
      .filter(([, line]) => line.some(([, celsius]) => (celsius as number) > warning!))
      .map(([name]) => name);
    assert.deepEqual(above, ["node-b"]);
  });

  it("disk used: one line per host and mount point, the fullest reading of each minute", async () => {
    const request = lineChartRequest(panel("Disk used per host and mount"), "1m");
    assert.equal(request.metricField, "system.filesystem.used.pct");
    const lines = request.read(await search(request.aggs, request.query));
    const expected = FLEET.flatMap((h) =>
      Object.entries(h.disks ?? {}).map(([mount, used]) => [
        `${h.host} › ${mount}`,
        perMinute(used, (r) => Math.max(...r)),
      ]),
    );
    assert.deepEqual(lines, Object.fromEntries(expected));
    // Concretely: node-a's root was 62.5 % then 75 % in its second minute; 75 % is the line's point.
    assert.deepEqual(lines["node-a › /"]![1], [start + 60_000, 0.75]);
  });

  it("network traffic: bytes per second in and out per host and interface, each minute's sum over 60 s", async () => {
    const v = panel("Network traffic per host and interface");
    const bytesPerSecond = (factor: number) => (r: number[]) => (r.reduce((a, b) => a + b, 0) * factor) / 60;
    for (const [label, factor] of [
      ["In", 1],
      ["Out", 0.5],
    ] as const) {
      const request = lineChartRequest(v, "1m", label);
      const lines = request.read(await search(request.aggs, request.query));
      const expected = FLEET.flatMap((h) =>
        Object.entries(h.received ?? {}).map(([name, bytes]) => [
          `${h.host} › ${name}`,
          perMinute(bytes, bytesPerSecond(factor)),
        ]),
      );
      assert.deepEqual(lines, Object.fromEntries(expected), label);
    }
    // Concretely: node-a's eth0 received 60,000 + 120,000 bytes in its first minute: 3,000 B/s.
    const received = lineChartRequest(v, "1m", "In");
    assert.deepEqual(received.read(await search(received.aggs, received.query))["node-a › eth0"]![0], [
      start,
      3000,
    ]);
  });

  it("hosts table: each host's latest temperature, CPU and load with its last-seen time, hottest first", async () => {
    const table = tableRequest(panel("Hosts, hottest first"));
    const rows = table.read(await search(table.aggs, table.query));
    const expected = (h: HostScript) => ({
      Host: h.host,
      Temperature: h.celsius.at(-1),
      "Peak temperature": Math.max(...h.celsius),
      "CPU busy": h.cpu.at(-1),
      "Load (1 min)": h.load.at(-1),
      "Last seen": lastSeen(h, start),
    });
    assert.deepEqual(rows, [expected(host("node-b")), expected(host("node-a")), expected(host("node-c"))]);
    assert.deepEqual(
      rows.map((r) => [r.Host, r.Temperature]),
      [
        ["node-b", 87.5],
        ["node-a", 60],
        ["node-c", 44.5],
      ],
    );
  });

  it("availability: hosts offline, or silent for more than three of their intervals, stand out", async () => {
    const table = tableRequest(panel("Host availability, longest silent first"));
    const rows = table.read(await search(table.aggs, table.query));
    // Longest silent first: the order the panel shows.
    assert.deepEqual(
      rows,
      [host("node-b"), host("node-c"), host("node-a")].map((h) => ({
        Host: h.host,
        Status: h.offlineAt === undefined ? "online" : "offline",
        "Interval (ms)": h.intervalMs,
        "Last seen": lastSeen(h, start),
      })),
    );
    // How the README reads the table: offline, or last seen longer ago than three intervals.
    const attention = rows
      .filter(
        (r) =>
          r.Status === "offline" || asOf - (r["Last seen"] as number) > 3 * (r["Interval (ms)"] as number),
      )
      .map((r) => r.Host);
    assert.deepEqual(attention, ["node-b", "node-c"]);
  });

  it('offline messages: the KQL filter telemetry.status : "offline" finds the host that shut down', async () => {
    const table = tableRequest(panel("Offline messages"));
    assert.deepEqual(table.query, { term: { "telemetry.status": "offline" } });
    const rows = table.read(await search(table.aggs, table.query));
    assert.deepEqual(rows, [
      { Host: "node-c", "Last offline message": start + host("node-c").offlineAt! * 1000 },
    ]);
  });

  it("host control: offers every reporting host, and not the one only the dead-letter stream knows", async () => {
    const [control] = controlsOf(dashboardsOf(readSavedObjects().objects)[0]!);
    const result = (await search({
      options: { terms: { field: control!.fieldName, size: 1000, order: { _key: "asc" } } },
    })) as { options: { buckets: Array<{ key: string }> } };
    assert.deepEqual(
      result.options.buckets.map((b) => b.key),
      FLEET.map((h) => h.host),
    );
    const letters = await es.search({ index: deadLetterStreamFor(namespace), query: { match_all: {} } });
    assert.equal((letters.hits.hits[0]?._source as { host: { name: string } }).host.name, "node-broken");
  });
});
