import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { METRIC_NAMES, sampleTopic } from "@cluster-telemetry/contract";
import {
  ConfigError,
  ConfigExit,
  loadAgentConfig,
  metricsOf,
} from "../../../agent/src/config/agent-config.ts";
import { spawnAgent } from "../agent-process.ts";

const dir = mkdtempSync(join(tmpdir(), "agent-config-"));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const problemsOf = (argv: string[], env: NodeJS.ProcessEnv = {}): string[] => {
  try {
    loadAgentConfig(argv, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe("the agent's configuration", () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("takes flags over environment variables over the config file", () => {
    const config = file(
      "precedence.json",
      JSON.stringify({ interval: 30, host: "from-file", broker: "mqtt://file:1883" }),
    );
    const built = loadAgentConfig(["--config", config, "--interval", "5"], { TELEMETRY_HOST: "from-env" });
    assert.equal(built.intervalMs, 5000);
    assert.equal(built.host, "from-env");
    assert.equal(built.broker, "mqtt://file:1883");
  });

  it("defaults to a 10 s interval, MQTT 5 and a bounded buffer", () => {
    const built = loadAgentConfig(["--host", "n1"], {});
    assert.equal(built.intervalMs, 10_000);
    assert.equal(built.mqttVersion, 5);
    assert.equal(built.bufferMaxMessages, 10_000);
  });

  it("lists every invalid value at once", () => {
    const problems = problemsOf(["--interval", "0.5", "--host", "bad/host", "--mqtt-version", "3"], {
      MQTT_URL: "http://x",
    });
    assert.equal(problems.length >= 4, true, problems.join("\n"));
    assert.ok(problems.some((p) => /--interval: must be at least 1s \(got 500ms\)/.test(p)));
    assert.ok(problems.some((p) => /host name "bad\/host"/.test(p)));
    assert.ok(problems.some((p) => /--mqtt-version: must be one of 4, 5 \(got 3\)/.test(p)));
    assert.ok(problems.some((p) => /MQTT_URL: must be a URL starting with mqtt:\/\//.test(p)));
  });

  it("rejects unknown keys and wrong types in the config file", () => {
    const config = file("bad.json", JSON.stringify({ interval: "ten", colour: "blue" }));
    const problems = problemsOf(["--config", config]);
    assert.ok(
      problems.some((p) => /^interval \(config file .*bad\.json\): must be a duration/.test(p)),
      problems.join("\n"),
    );
    assert.ok(
      problems.some((p) => /config file .*bad\.json: unknown keys colour/.test(p)),
      problems.join("\n"),
    );
  });

  it("reports a config file that is not JSON or does not exist", () => {
    assert.match(
      problemsOf(["--config", file("broken.json", "{")])[0] ?? "",
      /config file .*broken\.json: .*JSON/,
    );
    assert.match(problemsOf(["--config", join(dir, "missing.json")])[0] ?? "", /ENOENT/);
  });

  it("refuses to send a password in clear text to a non-local broker unless allowed", () => {
    const password = file("password", "s3cret\n");
    const problems = problemsOf([
      "--broker",
      "mqtt://broker.example:1883",
      "--password-file",
      password,
      "--host",
      "n1",
    ]);
    assert.match(problems[0] ?? "", /refusing to send a password in clear text to broker\.example/);
    const allowed = loadAgentConfig(
      [
        "--broker",
        "mqtt://broker.example:1883",
        "--password-file",
        password,
        "--host",
        "n1",
        "--allow-insecure",
      ],
      {},
    );
    assert.equal(allowed.password, "s3cret");
    assert.equal(
      loadAgentConfig(["--broker", "mqtt://127.0.0.1:1883", "--host", "n1"], { MQTT_PASSWORD: "x" }).password,
      "x",
    );
  });

  it("answers --help and --version without starting", () => {
    assert.throws(
      () => loadAgentConfig(["--help"], {}),
      (e: unknown) => e instanceof ConfigExit && /--broker <url>/.test(e.output),
    );
    assert.throws(
      () => loadAgentConfig(["--version"], {}),
      (e: unknown) => e instanceof ConfigExit && /^\d+\.\d+\.\d+/.test(e.output),
    );
  });

  const exits: Array<[string, string[], NodeJS.ProcessEnv, RegExp]> = [
    ["an unknown flag", ["--colour", "blue"], {}, /unknown option '--colour'/],
    [
      "a bad interval in the environment",
      ["--once"],
      { TELEMETRY_INTERVAL: "soon" },
      /TELEMETRY_INTERVAL: must be a duration such as 10s, 500ms or 7d \(a bare number is seconds\) \(got soon\)/,
    ],
    [
      "a host name that cannot be a topic level",
      ["--once", "--host", "a+b"],
      {},
      /host name "a\+b" contains/,
    ],
  ];
  for (const [what, argv, env, message] of exits) {
    it(`exits with code 2 and a clear message on ${what}`, async () => {
      const agent = spawnAgent(argv, env);
      assert.equal(await agent.exited, 2);
      assert.match(agent.output(), message);
      assert.match(agent.output(), /^telemetry-agent: invalid configuration:/);
    });
  }

  it("prints one sample's messages as JSON lines with --once, without connecting", async () => {
    const agent = spawnAgent(["--once", "--host", "once-host", "--broker", "mqtt://127.0.0.1:1"]);
    assert.equal(await agent.exited, 0);
    const lines = agent
      .output()
      .split("\n")
      .filter((l) => l.startsWith('{"topic"'));
    // Every metric of the contract, in its order; the temperatures only where the machine has a sensor.
    const sensorless = (m: string) => m === "temperature" || m === "temperature_sensor";
    assert.deepEqual(
      lines
        .map((l) => (JSON.parse(l) as { topic: string }).topic)
        .filter((t) => !sensorless(t.split("/")[3]!)),
      METRIC_NAMES.filter((m) => !sensorless(m)).map((m) => sampleTopic("once-host", m)),
    );
  });

  it("collects only the metrics asked for, and names a metric the contract does not know", async () => {
    assert.deepEqual([...metricsOf(loadAgentConfig(["--host", "n1"], {}))], METRIC_NAMES);
    const chosen = loadAgentConfig(["--host", "n1"], { TELEMETRY_METRICS: "cpu,load,memory" });
    assert.deepEqual([...metricsOf(chosen)], ["cpu", "load", "memory"]);
    assert.ok(
      problemsOf(["--host", "n1", "--metrics", "cpu,cores"]).some((p) =>
        p.includes('metrics: "cores" is not a metric of the contract'),
      ),
    );
    assert.ok(problemsOf(["--host", "n1", "--metrics", "cpu, load"]).some((p) => p.includes("--metrics")));

    const agent = spawnAgent([
      "--once",
      "--host",
      "few",
      "--metrics",
      "load,cpu",
      "--broker",
      "mqtt://127.0.0.1:1",
    ]);
    assert.equal(await agent.exited, 0, agent.output());
    const topics = agent
      .output()
      .split("\n")
      .filter((l) => l.startsWith('{"topic"'))
      .map((l) => (JSON.parse(l) as { topic: string }).topic);
    // In the contract's order, whatever the order asked.
    assert.deepEqual(topics, [sampleTopic("few", "cpu"), sampleTopic("few", "load")]);
  });
});
