import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { ensureDebianBinary } from "@cluster-telemetry/dev-stack";

const unitFile = resolve(import.meta.dirname, "..", "..", "..", "deploy/systemd/telemetry-agent.service");

/** The score and the settings `systemd-analyze security` still flags, read from the unit file alone. */
function securityReport(): { exposure: number; flagged: string[] } {
  const analyze = ensureDebianBinary("systemd-analyze", "systemd");
  const result = spawnSync(analyze, ["security", "--offline=yes", "--no-pager", unitFile], {
    encoding: "utf8",
  });
  const output = `${result.stdout}${result.stderr}`;
  const exposure = /Overall exposure level for telemetry-agent\.service: (\d+(?:\.\d+)?)/.exec(output);
  assert.ok(exposure, `systemd-analyze security printed no score:\n${output}`);
  const flagged = [...output.matchAll(/^✗ (\S+)/gm)].map((m) => m[1]!);
  return { exposure: Number(exposure[1]), flagged };
}

/**
 * What the agent needs and therefore keeps: V8's JIT (writable executable memory), sockets to a
 * broker at an address only its settings know, the host's /proc files it samples, the root file
 * system it runs from, and the read-only clock device ProtectClock leaves.
 */
const NEEDED = [
  "RootDirectory=/RootImage=",
  "MemoryDenyWriteExecute=",
  "RestrictAddressFamilies=~AF_UNIX",
  "RestrictAddressFamilies=~AF_(INET|INET6)",
  "ProcSubset=",
  "PrivateNetwork=",
  "DeviceAllow=",
  "IPAddressDeny=",
];

describe("the agent's systemd unit (deploy/systemd/telemetry-agent.service)", () => {
  it("scores at most 1.5 on systemd-analyze security: exposure only where the agent needs it", () => {
    const { exposure, flagged } = securityReport();
    assert.ok(exposure <= 1.5, `exposure ${exposure}; still flagged: ${flagged.join(", ")}`);
    assert.deepEqual(
      flagged.filter((setting) => !NEEDED.includes(setting)),
      [],
      "every flagged setting is one the agent needs",
    );
  });
});
