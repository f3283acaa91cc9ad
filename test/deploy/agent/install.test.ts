import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { ensureDebianBinary } from "@cluster-telemetry/dev-stack";

const repo = resolve(import.meta.dirname, "..", "..", "..");
const unitFile = join(repo, "deploy/systemd/telemetry-agent.service");
const installer = join(repo, "deploy/agent/install.sh");

interface Run {
  code: number;
  output: string;
}

async function run(command: string, args: string[], cwd = repo, env = process.env): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, { cwd, env, maxBuffer: 16 << 20 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

describe("the systemd unit and installer for agents", () => {
  it("is a unit systemd accepts without a warning", async () => {
    const analyze = ensureDebianBinary("systemd-analyze", "systemd");
    const result = await run(analyze, ["verify", unitFile]);
    assert.equal(result.code, 0, result.output);
    assert.equal(result.output.trim(), "", `systemd-analyze reported:\n${result.output}`);
  });

  it("hardens the service: its own user, no capabilities, read-only system, bounded memory, no restart on bad config", () => {
    const unit = readFileSync(unitFile, "utf8");
    for (const line of [
      "User=telemetry-agent",
      "NoNewPrivileges=yes",
      "CapabilityBoundingSet=",
      "ProtectSystem=strict",
      "ProtectHome=yes",
      "RestartPreventExitStatus=2",
      "KillSignal=SIGTERM",
      "EnvironmentFile=/etc/telemetry-agent/agent.env",
    ])
      assert.ok(unit.split("\n").includes(line), line);
    assert.match(unit, /^MemoryMax=\d+M$/m);
  });

  it("is a shell script shellcheck finds nothing in", async () => {
    const shellcheck = ensureDebianBinary("shellcheck", "shellcheck");
    const result = await run(shellcheck, [installer]);
    assert.equal(result.code, 0, result.output);
  });

  for (const [what, args, message] of [
    ["no broker", [], /--broker is required/],
    ["a broker that is not MQTT", ["--broker", "http://x"], /must be an mqtt/],
    ["an interval of 0", ["--broker", "mqtts://x:8883", "--interval", "0"], /--interval must be/],
    [
      "an unreadable password file",
      ["--broker", "mqtts://x:8883", "--password-file", "/nonexistent"],
      /cannot read/,
    ],
    ["a certificate without its key", ["--broker", "mqtts://x:8883", "--cert-file", unitFile], /go together/],
    ["an unknown option", ["--brokr", "x"], /unknown option: --brokr/],
  ] as const) {
    it(`exits 2 with a clear message on ${what}`, async () => {
      const result = await run("bash", [installer, "--dry-run", ...args]);
      assert.equal(result.code, 2, result.output);
      assert.match(result.output, message);
    });
  }

  it("refuses a password over plain MQTT to another machine in the agent's own words, with every other problem at once", async () => {
    const result = await run("bash", [
      installer,
      "--dry-run",
      "--broker",
      "mqtt://10.0.0.5:1883",
      "--password-file",
      unitFile,
      "--interval",
      "0",
      "--ca-file",
      "/nonexistent",
    ]);
    assert.equal(result.code, 2, result.output);
    const refusal =
      "refusing to send a password in clear text to 10.0.0.5: use mqtts:// or pass --allow-insecure";
    for (const line of [refusal, "--interval must be", "cannot read /nonexistent"])
      assert.ok(result.output.includes(line), `${line}\n${result.output}`);
    // The agent, given the same set-up, says the same.
    const agent = await run(process.execPath, [join(repo, "agent/bin/telemetry-agent.js")], repo, {
      ...process.env,
      MQTT_URL: "mqtt://10.0.0.5:1883",
      MQTT_PASSWORD_FILE: unitFile,
    });
    assert.equal(agent.code, 2);
    assert.ok(agent.output.includes(refusal), agent.output);
    // The agent's explicit opt-in is offered, and accepted.
    const optIn = await run("bash", [
      installer,
      "--dry-run",
      "--broker",
      "mqtt://10.0.0.5:1883",
      "--password-file",
      unitFile,
      "--allow-insecure",
    ]);
    assert.equal(optIn.code, 0, optIn.output);
  });

  it("with --dry-run prints its plan (apt installs the package, settings, restart) and changes nothing", async () => {
    const touched = [
      "/etc/telemetry-agent",
      "/usr/lib/telemetry-agent",
      "/lib/systemd/system/telemetry-agent.service",
    ];
    const existed = touched.map((path) => existsSync(path));
    const result = await run("bash", [
      installer,
      "--dry-run",
      "--broker",
      "mqtts://mqtt.example.org:8883",
      "--deb",
      "telemetry-agent_1.0.0_all.deb",
    ]);
    assert.equal(result.code, 2, result.output);
    assert.match(result.output, /cannot read telemetry-agent_1\.0\.0_all\.deb/);
    const planned = await run("bash", [installer, "--dry-run", "--broker", "mqtts://mqtt.example.org:8883"]);
    assert.equal(planned.code, 0, planned.output);
    assert.match(
      planned.output,
      /would run: .*apt-get install --yes --quiet \S*telemetry-agent_\S+_all\.deb/,
    );
    assert.match(
      planned.output,
      /would run: install -m 0640 -g telemetry-agent \S+ \/etc\/telemetry-agent\/agent\.env/,
    );
    assert.match(planned.output, /would run: systemctl restart telemetry-agent\.service/);
    assert.deepEqual(
      touched.map((path) => existsSync(path)),
      existed,
    );
  });
});
