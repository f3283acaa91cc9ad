import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readMachineId } from "../../../agent/src/sampling/machine-id.ts";
import { spawnAgent } from "../agent-process.ts";

const fixtures = join(import.meta.dirname, "..", "fixtures");
const RPI_ID = "3f1c9a5e2b7d4c8e9a0b1c2d3e4f5a6b";

describe("the machine id (host.id)", () => {
  it("is read from <etc root>/machine-id", () => {
    assert.deepEqual(readMachineId(join(fixtures, "rpi", "etc")), { id: RPI_ID });
  });

  it("is absent, with the reason, where the file is missing, uninitialized or empty", () => {
    assert.match(readMachineId(join(fixtures, "vm", "etc")).absent ?? "", /cannot read .*machine-id: ENOENT/);
    for (const content of ["uninitialized\n", "", "not-hex-at-all-not-hex-at-all-xx\n"]) {
      const etc = mkdtempSync(join(tmpdir(), "machine-id-"));
      writeFileSync(join(etc, "machine-id"), content);
      assert.match(readMachineId(etc).absent ?? "", /does not hold a machine id/, JSON.stringify(content));
    }
  });

  it("goes into every sample as host.id, beside metricset.period, and is left out where there is none", async () => {
    const samples = async (etcRoot: string) => {
      const agent = spawnAgent(
        ["--once", "--host", "id-host", "--interval", "30", "--broker", "mqtt://127.0.0.1:1"],
        {
          TELEMETRY_ETC_ROOT: etcRoot,
        },
      );
      assert.equal(await agent.exited, 0, agent.output());
      return agent
        .output()
        .split("\n")
        .filter((l) => l.startsWith('{"topic"'))
        .map(
          (l) =>
            (
              JSON.parse(l) as {
                payload: { host: { id?: string }; metricset: { name: string; period: number } };
              }
            ).payload,
        );
    };
    const withId = await samples(join(fixtures, "rpi", "etc"));
    assert.ok(withId.length >= 3);
    for (const sample of withId) {
      assert.equal(sample.host.id, RPI_ID);
      assert.equal(sample.metricset.period, 30_000);
    }
    const withoutId = await samples(join(fixtures, "vm", "etc"));
    assert.ok(withoutId.length >= 3 && withoutId.every((s) => s.host.id === undefined));
  });
});
