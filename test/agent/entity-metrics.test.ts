import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { Client } from "@elastic/elasticsearch";
import mqtt from "mqtt";
import {
  dataStreamFor,
  deadLetterStreamFor,
  sampleMessage,
  type MetricName,
} from "@cluster-telemetry/contract";
import { MosquittoService, sharedServices, uniqueName } from "@cluster-telemetry/dev-stack";
import { FilesystemCollector } from "../../agent/src/collectors/filesystem.ts";
import { subscribedIngest, type IngestProcess } from "../ingest/fleet.ts";
import { spawnAgent, waitFor, type AgentProcess } from "./agent-process.ts";

type Doc = { "@timestamp": string; host: { name: string }; system: Record<string, Record<string, unknown>> };

/** This machine's interfaces but loopback, read from /proc/net/dev independently of the agent. */
const interfaces = () =>
  readFileSync("/proc/net/dev", "utf8")
    .split("\n")
    .map((line) => /^\s*([^\s:]+):/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== "lo")
    .sort();

/**
 * The per-entity metrics the way they travel: a real agent on this machine → Mosquitto → the real
 * ingest → Elasticsearch, one document per filesystem and per interface.
 */
describe("filesystem and network from a real agent, through the ingest, in Elasticsearch", () => {
  const services = sharedServices();
  const es = new Client({ node: services.elasticsearchUrl, requestTimeout: 30_000 });
  const namespace = uniqueName("ent");
  const host = uniqueName("node-");
  let broker: MosquittoService;
  let ingest: IngestProcess;
  let agent: AgentProcess;

  before(async () => {
    broker = await MosquittoService.start();
    ingest = await subscribedIngest(broker.url, namespace);
    agent = spawnAgent(["--broker", broker.url, "--host", host, "--interval", "1"]);
  });

  after(async () => {
    agent?.child.kill("SIGKILL");
    ingest?.child.kill("SIGKILL");
    await es.close();
    await broker?.process.stop();
  });

  /** Documents of `metric` from this test's agent, grouped by sample (@timestamp), once two samples are in. */
  async function samplesOf(metric: MetricName): Promise<Map<string, Doc[]>> {
    const index = dataStreamFor(metric, namespace);
    const bySample = new Map<string, Doc[]>();
    await waitFor(
      `two ${metric} samples in ${index}`,
      async () => {
        if (!(await es.indices.exists({ index }))) return false;
        await es.indices.refresh({ index });
        const found = await es.search<Doc>({ index, size: 500, query: { term: { "host.name": host } } });
        bySample.clear();
        for (const hit of found.hits.hits) {
          const doc = hit._source!;
          bySample.set(doc["@timestamp"], [...(bySample.get(doc["@timestamp"]) ?? []), doc]);
        }
        return bySample.size >= 2;
      },
      60_000,
    );
    return bySample;
  }

  it("indexes one document per mounted filesystem per sample, with Metricbeat's fields", async () => {
    // What this machine has, by the collector run here: the agent must have sent the same mounts.
    const collector = new FilesystemCollector({ procRoot: "/proc", sysRoot: "/sys" });
    await collector.start();
    const here = (await collector.collect()) ?? [];
    assert.ok(
      here.some((f) => f.mount_point === "/"),
      "this machine has a root filesystem",
    );
    for (const [at, docs] of await samplesOf("filesystem")) {
      const mounts = docs.map((d) => d.system.filesystem!.mount_point as string).sort();
      assert.deepEqual(mounts, here.map((f) => f.mount_point).sort(), `the sample of ${at}`);
      for (const doc of docs) {
        const fs = doc.system.filesystem as {
          total: number;
          free: number;
          available: number;
          used: { bytes: number; pct: number };
          files: number;
          device_name: string;
          type: string;
        };
        assert.ok(fs.total > 0 && fs.free <= fs.total && fs.available <= fs.free, JSON.stringify(fs));
        assert.equal(fs.used.bytes, fs.total - fs.free);
        assert.equal(
          fs.used.pct,
          Math.round((fs.used.bytes / (fs.used.bytes + fs.available)) * 10_000) / 10_000,
        );
        assert.ok(fs.device_name.length > 0 && fs.type.length > 0 && fs.files >= 0);
      }
    }
  });

  it("indexes one document per interface but loopback per sample, with the counters and their period", async () => {
    for (const [at, docs] of await samplesOf("network")) {
      const names = docs.map((d) => d.system.network!.name as string).sort();
      assert.deepEqual(names, interfaces(), `the sample of ${at}`);
      for (const doc of docs) {
        const net = doc.system.network as {
          in: Record<string, number>;
          out: Record<string, number>;
          period?: { ms: number; in: Record<string, number>; out: Record<string, number> };
        };
        for (const counter of ["bytes", "packets", "errors", "dropped"]) {
          assert.ok(Number.isSafeInteger(net.in[counter]) && Number.isSafeInteger(net.out[counter]), counter);
          // The baseline is read at start: every sample of an interface present then has its period.
          assert.ok(net.period && net.period.in[counter]! >= 0 && net.period.out[counter]! >= 0, counter);
          assert.ok(net.period.in[counter]! <= net.in[counter]!, "a change is never more than the total");
        }
        assert.ok(net.period!.ms > 0);
      }
    }
  });

  it("dead-letters a sample whose entities share a key as duplicate_entity, indexing none of them", async () => {
    const twice = uniqueName("node-");
    const disk = (device_name: string) => ({
      mount_point: "/",
      device_name,
      type: "ext4",
      total: 4096,
      free: 2048,
      available: 2048,
      used: { bytes: 2048, pct: 0.5 },
      files: 10,
      free_files: 5,
    });
    const origin = {
      host: { name: twice },
      agent: { type: "telemetry-agent", version: "test" },
      periodMs: 10_000,
    };
    const message = sampleMessage("filesystem", origin, [disk("/dev/sda1"), disk("/dev/sdb1")]);
    const client = await mqtt.connectAsync(broker.url, { clientId: uniqueName("dup"), protocolVersion: 5 });
    try {
      await client.publishAsync(message.topic, message.payload, { qos: 1 });
    } finally {
      await client.endAsync();
    }
    const letters = deadLetterStreamFor(namespace);
    let letter: { error: { type: string; message: string } } | undefined;
    await waitFor("the dead letter", async () => {
      if (!(await es.indices.exists({ index: letters }))) return false;
      await es.indices.refresh({ index: letters });
      const found = await es.search({ index: letters, query: { term: { "host.name": twice } } });
      letter = found.hits.hits[0]?._source as typeof letter;
      return letter !== undefined;
    });
    assert.equal(letter!.error.type, "duplicate_entity");
    assert.match(letter!.error.message, /mount_point "\/" appears twice in system.filesystem/);
    const index = dataStreamFor("filesystem", namespace);
    await es.indices.refresh({ index });
    assert.equal((await es.count({ index, query: { term: { "host.name": twice } } })).count, 0);
  });
});
