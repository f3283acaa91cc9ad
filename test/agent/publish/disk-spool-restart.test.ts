import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import mqtt from "mqtt";
import { MosquittoService, uniqueName } from "@cluster-telemetry/dev-stack";
import { spawnAgent, waitFor } from "../agent-process.ts";

/** The samples in a spool directory that the broker has not acknowledged, as "topic @timestamp". */
function spooledSamples(dir: string): string[] {
  let cursor = { seq: 0, index: 0 };
  try {
    const [seq, index] = readFileSync(join(dir, "cursor"), "utf8").trim().split(" ").map(Number);
    cursor = { seq: seq!, index: index! };
  } catch {
    // No cursor: nothing acknowledged yet.
  }
  const samples: string[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith(".ndjson"))
    .sort()) {
    const seq = Number(name.split(".")[0]);
    if (seq < cursor.seq) continue;
    const lines = readFileSync(join(dir, name), "utf8").split("\n").slice(0, -1);
    for (const line of lines.slice(seq === cursor.seq ? cursor.index : 0)) {
      const record = JSON.parse(line) as { t: string; p: string };
      samples.push(`${record.t} ${(JSON.parse(record.p) as { "@timestamp": string })["@timestamp"]}`);
    }
  }
  return samples;
}

describe("the agent's disk spool", () => {
  let broker: MosquittoService;
  before(async () => {
    broker = await MosquittoService.start();
  });
  after(async () => {
    await broker.process.stop();
  });

  it("delivers every sample spooled during an outage exactly once after a kill -9 and a restart", async () => {
    const host = uniqueName("spool-");
    const dir = mkdtempSync(join(tmpdir(), "agent-spool-"));
    const args = ["--broker", broker.url, "--host", host, "--interval", "1", "--spool-dir", dir];
    const first = spawnAgent(args);
    try {
      const watch = await mqtt.connectAsync(broker.url, { clientId: uniqueName("spool-watch") });
      let online = false;
      watch.on("message", (_topic, payload) => (online ||= payload.toString().includes('"online"')));
      await watch.subscribeAsync(`telemetry/v2/${host}/status`, { qos: 1 });
      await waitFor("the agent online", () => online);
      await watch.endAsync();
      await broker.process.stop();
      await waitFor("samples on disk", () => spooledSamples(dir).length >= 6);
    } finally {
      first.child.kill("SIGKILL");
      await first.exited;
    }
    const spooled = spooledSamples(dir);
    const killedAt = new Date().toISOString();

    await broker.process.start();
    const subscriber = await mqtt.connectAsync(broker.url, { clientId: uniqueName("spool-sub") });
    const seen = new Map<string, number>();
    let fresh = false;
    subscriber.on("message", (topic, payload) => {
      if (topic.endsWith("/status")) return;
      const stamp = (JSON.parse(payload.toString()) as { "@timestamp": string })["@timestamp"];
      const key = `${topic} ${stamp}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      fresh ||= stamp > killedAt;
    });
    await subscriber.subscribeAsync(`telemetry/v2/${host}/#`, { qos: 1 });
    const second = spawnAgent(args);
    try {
      // One connection delivers in order: a sample taken after the restart comes after the spool's.
      await waitFor(
        "every spooled sample, then a fresh one",
        () => fresh && spooled.every((k) => seen.has(k)),
      );
      await waitFor("the spool emptied", () => spooledSamples(dir).length === 0);
    } finally {
      second.child.kill("SIGTERM");
      assert.equal(await second.exited, 0, second.output());
      await subscriber.endAsync();
    }
    assert.deepEqual(
      spooled.filter((k) => seen.get(k) !== 1).map((k) => `${k}: ${seen.get(k) ?? 0} times`),
      [],
    );
  });
});
