import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { sharedServices, waitFor } from "@cluster-telemetry/dev-stack";
import { MqttClient } from "mqtt";
import { PATCHED_MQTT_VERSION, mqttVersionProblem } from "../../../ingest/src/intake/held-acks.ts";
import { spawnIngest } from "../fleet.ts";

const root = join(import.meta.dirname, "..", "..", "..");
const manifest = (path: string) =>
  JSON.parse(readFileSync(join(root, path), "utf8")) as {
    dependencies?: Record<string, string>;
    packages?: Record<string, { version?: string }>;
  };

describe("the mqtt.js version the PUBACK patch relies on", () => {
  it("passes the version the patch was checked against", () => {
    assert.equal(mqttVersionProblem(PATCHED_MQTT_VERSION), undefined);
  });

  it("refuses another release, naming the expected and the found version and what to do", () => {
    const problem = mqttVersionProblem("5.17.0", "5.16.0");
    assert.ok(problem);
    assert.equal(problem.name, "MqttVersionMismatch");
    assert.match(problem.message, /mqtt\.js 5\.16\.0's private _sendPacket/);
    assert.match(problem.message, /mqtt\.js 5\.17\.0 is installed/);
    assert.match(problem.message, /npm install --save-exact mqtt@5\.16\.0/);
  });

  it("refuses an mqtt.js that does not report its version at all", () => {
    assert.match(mqttVersionProblem(undefined, "5.16.0")?.message ?? "", /mqtt\.js undefined is installed/);
  });

  it("is the version installed, and every package that uses mqtt pins exactly it, so the tree holds one copy", () => {
    assert.equal(MqttClient.VERSION, PATCHED_MQTT_VERSION);
    for (const pkg of ["agent", "ingest", "live"])
      assert.equal(manifest(`${pkg}/package.json`).dependencies?.mqtt, PATCHED_MQTT_VERSION, pkg);
    const copies = Object.entries(manifest("package-lock.json").packages ?? {}).filter(([path]) =>
      path.endsWith("node_modules/mqtt"),
    );
    assert.deepEqual(copies, [["node_modules/mqtt", copies[0]![1]]]);
    assert.equal(copies[0]![1].version, PATCHED_MQTT_VERSION);
  });

  it("is the version the ingest's README names in its acknowledgement section", () => {
    const readme = readFileSync(join(root, "ingest", "README.md"), "utf8");
    assert.ok(readme.includes(`(${PATCHED_MQTT_VERSION}, \`PATCHED_MQTT_VERSION\``), "ingest/README.md");
  });

  it("stops the ingest at start, before any connection, when another mqtt.js is loaded", async () => {
    const { mqttUrl, redisUrl, elasticsearchUrl } = sharedServices();
    const preload = pathToFileURL(join(import.meta.dirname, "other-mqtt-version.mjs")).href;
    const ingest = spawnIngest([], {
      MQTT_URL: mqttUrl,
      REDIS_URL: redisUrl,
      ELASTICSEARCH_URL: elasticsearchUrl,
      NODE_OPTIONS: `--import=${preload}`,
    });
    let exitCode: number | null | undefined;
    void ingest.exited.then((code) => (exitCode = code));
    // Without the check it would connect and run: stop it then, and fail on what it printed.
    await waitFor(
      "the ingest to exit or to connect",
      () => exitCode !== undefined || /broker_connected/.test(ingest.output()),
    );
    if (exitCode === undefined) {
      ingest.child.kill("SIGKILL");
      await ingest.exited;
    }
    assert.equal(exitCode, 1, ingest.output());
    assert.match(
      ingest.output(),
      /telemetry-ingest: mqtt version mismatch: .*mqtt\.js 5\.16\.0's private _sendPacket, but mqtt\.js 5\.17\.0 is installed/,
    );
    assert.doesNotMatch(ingest.output(), /broker_connected|templates_installed/);
  });
});
