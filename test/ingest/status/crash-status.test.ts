import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Client } from "@elastic/elasticsearch";
import mqtt from "mqtt";
import { spawnAgent, type AgentProcess } from "../../agent/agent-process.ts";
import { MosquittoService, sharedServices, uniqueName } from "@cluster-telemetry/dev-stack";
import { subscribedIngest, waitFor, type IngestProcess } from "../fleet.ts";
import { dataStreamFor } from "@cluster-telemetry/contract";

interface StatusDocument {
  "@timestamp": string;
  event: { ingested: string };
  telemetry: { status: string };
}

describe("the status Elasticsearch holds for a host whose agent crashes", () => {
  const shared = sharedServices();
  const namespace = uniqueName("crash");
  const host = uniqueName("node-");
  const es = new Client({ node: shared.elasticsearchUrl, requestTimeout: 30_000 });
  const statusStream = dataStreamFor("status", namespace);
  let broker: MosquittoService;
  let ingest: IngestProcess;
  const agents: AgentProcess[] = [];

  /** The host's statuses, newest by the time the ingest received them first. */
  const statuses = async (): Promise<StatusDocument[]> => {
    await es.indices.refresh({ index: statusStream }).catch(() => undefined);
    const response = await es
      .search<StatusDocument>({
        index: statusStream,
        size: 100,
        query: { term: { "host.name": host } },
        sort: [{ "event.ingested": "desc" }],
      })
      .catch(() => undefined);
    return response?.hits.hits.map((h) => h._source!) ?? [];
  };
  const latest = async () => (await statuses())[0]?.telemetry.status;
  const startAgent = () => {
    const agent = spawnAgent(["--broker", broker.url, "--host", host, "--interval", "1"]);
    agents.push(agent);
    return agent;
  };

  before(async () => {
    broker = await MosquittoService.start();
    ingest = await subscribedIngest(broker.url, namespace);
  });
  after(async () => {
    for (const a of agents) a.child.kill("SIGKILL");
    ingest.child.kill("SIGKILL");
    await es.close();
    await broker.process.stop();
  });

  it("reads offline after kill -9 of the agent, though the Will was stamped before the online", async () => {
    const agent = startAgent();
    await waitFor("the online status indexed", async () => (await latest()) === "online", 60_000);
    agent.child.kill("SIGKILL");
    await waitFor(
      "the Will indexed as the latest status",
      async () => (await latest()) === "offline",
      60_000,
    );
    const [offline, online] = await statuses();
    assert.ok(
      offline!["@timestamp"] < online!["@timestamp"],
      "the Will carries the moment its connection was made, before the online sent after it",
    );
    assert.ok(offline!.event.ingested > online!.event.ingested);
  });

  it("reads offline after a crash that follows a reconnect: each connection's Will is a document of its own", async () => {
    const agent = startAgent();
    await waitFor("online again", async () => (await latest()) === "online", 60_000);
    // Another connection with the agent's client id takes its session over: the broker drops the
    // agent's connection and publishes its Will; the agent then reconnects with the same process.
    const impostor = await mqtt.connectAsync(broker.url, {
      clientId: `telemetry-agent-${host}`,
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    await waitFor("the Will of the dropped connection", async () => (await latest()) === "offline", 60_000);
    await impostor.endAsync();
    await waitFor("the agent back online", async () => (await latest()) === "online", 60_000);
    agent.child.kill("SIGKILL");
    await waitFor("offline after the crash", async () => (await latest()) === "offline", 60_000);
    const all = await statuses();
    assert.deepEqual(
      all.map((s) => s.telemetry.status),
      ["offline", "online", "offline", "online", "offline", "online"],
      "each status once: no Will dropped as a duplicate of an earlier one, nothing indexed twice",
    );
  });
});
