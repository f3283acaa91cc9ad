import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { sharedServices } from "../harness/index.ts";

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
