import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError, loadLiveConfig } from "../../../live/src/config/live-config.ts";

const dir = mkdtempSync(join(tmpdir(), "live-config-"));
const secret = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const problemsOf = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  try {
    loadLiveConfig(argv, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe("telemetry-live configuration", () => {
  it("defaults to loopback, port 8080, a token file in the user's state directory, no history", () => {
    const config = loadLiveConfig([], { HOME: "/home/someone" });
    assert.equal(config.http.host, "127.0.0.1");
    assert.equal(config.http.port, 8080);
    assert.deepEqual(config.auth, { kind: "token", file: "/home/someone/.local/state/telemetry-live/token" });
    assert.equal(config.elasticsearch, undefined);
    assert.equal(config.hotCelsius, 80);
    assert.equal(config.windowMs, 15 * 60_000);
  });

  it("takes flags over environment variables over the config file", () => {
    const file = secret("live.json", JSON.stringify({ port: 9001, hotCelsius: 70, maxHosts: 5 }));
    const config = loadLiveConfig(["--config", file, "--port", "9003"], {
      LIVE_PORT: "9002",
      LIVE_HOT_CELSIUS: "75",
    });
    assert.equal(config.http.port, 9003);
    assert.equal(config.hotCelsius, 75);
    assert.equal(config.maxHosts, 5);
  });

  it("reads secrets from files, and history settings from ELASTICSEARCH_URL", () => {
    const config = loadLiveConfig(
      ["--auth-username", "ops", "--auth-password-file", secret("pw", "s3cret\n")],
      {
        MQTT_PASSWORD_FILE: secret("mqtt", "viewer-pass\n"),
        ELASTICSEARCH_URL: "http://es:9200",
        ELASTICSEARCH_API_KEY_FILE: secret("key", "abc=="),
        LIVE_NAMESPACE: "prod",
      },
    );
    assert.deepEqual(config.auth, { kind: "basic", username: "ops", password: "s3cret" });
    assert.equal(config.mqtt.password, "viewer-pass");
    assert.deepEqual(config.elasticsearch, {
      url: "http://es:9200",
      apiKey: "abc==",
      caFile: undefined,
      namespace: "prod",
    });
  });

  it("lists every problem at once", () => {
    const problems = problemsOf([
      "--mqtt-url",
      "http://broker",
      "--port",
      "70000",
      "--push-interval",
      "200ms",
      "--auth-username",
      "ops",
      "--tls-cert-file",
      join(dir, "missing.crt"),
    ]);
    assert.ok(
      problems.some((p) => p.startsWith("--mqtt-url: must be a URL starting with mqtt://")),
      problems.join("\n"),
    );
    assert.ok(problems.some((p) => p === "--port: must be at most 65535 (got 70000)"));
    assert.ok(problems.some((p) => p === "--push-interval: must be at least 1s (got 200ms)"));
    assert.ok(problems.some((p) => p.includes("basic auth needs a password")));
    assert.ok(problems.some((p) => /--tls-cert-file: cannot read .*missing\.crt \(ENOENT\)/.test(p)));
    assert.ok(problems.some((p) => p.includes("TLS needs both a certificate file and a key file")));
  });

  it("rejects unknown keys in the config file", () => {
    const problems = problemsOf(["--config", secret("bad.json", JSON.stringify({ prot: 1 }))]);
    assert.ok(problems.some((p) => p.includes("unknown keys prot")));
  });
});
