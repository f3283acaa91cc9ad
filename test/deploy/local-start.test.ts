import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";

const root = resolve(import.meta.dirname, "..", "..");

describe("npm start", () => {
  it("runs the agent and the ingest against the services and shows where the data lands", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "deploy/local/start.ts", "--check"],
      {
        cwd: root,
        env: process.env,
        timeout: 150_000,
      },
    );
    assert.match(stdout, /Elasticsearch: http:\/\/127\.0\.0\.1:\d+/);
    assert.match(stdout, /metrics-telemetry\.\{cpu,load,temperature,memory,status\}-default/);
    assert.match(stdout, /mosquitto_sub -h 127\.0\.0\.1 -p \d+ -v -t 'telemetry\/v1\/#'/);
    const documents = Number(/documents: (\d+)/.exec(stdout)?.[1]);
    assert.ok(documents > 0, "documents were indexed");
  });
});
