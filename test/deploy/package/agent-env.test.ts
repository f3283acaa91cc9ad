import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { envsOf, loadOptions } from "@cluster-telemetry/contract/config";
import { AGENT_OPTIONS, AGENT_PROGRAM } from "../../../agent/src/config/agent-options.ts";

const envFile = readFileSync(
  resolve(import.meta.dirname, "../../../deploy/package/debian/agent.env"),
  "utf8",
);
/** Every VARIABLE=value of the conffile, set or commented out. */
const assignments = [...envFile.matchAll(/^#?([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1]!, m[2]!] as const);

describe("the package's agent.env", () => {
  it("names only variables the agent reads", () => {
    const known = new Set(Object.values(AGENT_OPTIONS).flatMap((spec) => envsOf(spec)));
    assert.ok(assignments.length > 5, "agent.env lists the agent's variables");
    for (const [name] of assignments)
      assert.ok(known.has(name), `${name} is not one of the agent's variables`);
  });

  it("gives values the agent accepts, commented-out examples included", () => {
    const readable = new Set(["MQTT_PASSWORD_FILE", "MQTT_CA_FILE", "MQTT_CERT_FILE", "MQTT_KEY_FILE"]);
    const env = Object.fromEntries(assignments.filter(([name]) => !readable.has(name)));
    const config = loadOptions(AGENT_PROGRAM, [], env);
    assert.equal(config.jitterMs, 10_000);
    assert.equal(config.spoolDir, "/var/lib/telemetry-agent");
  });
});
