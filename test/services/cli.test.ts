import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { sharedServices } from "@cluster-telemetry/dev-stack";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..", "..");
const cli = (...args: string[]) =>
  run(process.execPath, ["--import", "tsx", "test/harness/cli.ts", ...args], { cwd: root, env: process.env });

describe("npm run services", () => {
  it("up prints exactly the three URL lines on stdout, reusing services named in the environment", async () => {
    const { mqttUrl, redisUrl, elasticsearchUrl } = sharedServices();
    const { stdout } = await cli("up");
    assert.deepEqual(stdout.trimEnd().split("\n"), [
      `MQTT_URL=${mqttUrl}`,
      `REDIS_URL=${redisUrl}`,
      `ELASTICSEARCH_URL=${elasticsearchUrl}`,
    ]);
  });

  it("up keeps stdout to the three URL lines, free of escape codes, when it starts services itself", async () => {
    const { elasticsearchUrl } = sharedServices();
    // A private temp directory: its own state file, so this `up` starts Mosquitto and Redis.
    const tmp = mkdtempSync(join(tmpdir(), "telemetry-cli-"));
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp, ELASTICSEARCH_URL: elasticsearchUrl };
    delete env.MQTT_URL;
    delete env.REDIS_URL;
    const harness = (command: string) =>
      run(process.execPath, ["--import", "tsx", "test/harness/cli.ts", command], { cwd: root, env });
    try {
      const { stdout, stderr } = await harness("up");
      assert.equal(stdout.includes("\u001b"), false, "no escape codes on stdout");
      const lines = stdout.trimEnd().split("\n");
      assert.deepEqual(
        lines.map((l) => l.split("=")[0]),
        ["MQTT_URL", "REDIS_URL", "ELASTICSEARCH_URL"],
      );
      assert.match(lines[0] ?? "", /^MQTT_URL=mqtt:\/\/127\.0\.0\.1:\d+$/);
      assert.match(stderr, /mosquitto: started at/);
    } finally {
      await harness("down");
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("status says where each service runs", async () => {
    const { stdout } = await cli("status");
    const lines = stdout.trimEnd().split("\n");
    assert.equal(lines.length, 3);
    assert.match(lines[0] ?? "", /^mosquitto: external at mqtt:\/\//);
    assert.match(lines[2] ?? "", /^elasticsearch: external at http:\/\//);
  });

  it("rejects an unknown command with exit code 2", async () => {
    await assert.rejects(cli("sideways"), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr ?? "", /usage: services up\|down\|status/);
      return true;
    });
  });
});
