import assert from "node:assert/strict";
import { execFile, execFileSync, spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { before, describe, it } from "node:test";
import { promisify } from "node:util";
import mqtt from "mqtt";
import { decodeMessage } from "../../../agent/src/contract/index.ts";
import { ensureDebianBinary, sharedServices, uniqueName } from "../../harness/index.ts";
import { waitFor } from "../../harness/program.ts";

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

/** A checkout without dist/: what a user has after `git clone`, so the installer's build step runs too. */
function freshCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), "agent-src-"));
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: repo,
    encoding: "utf8",
  }).split("\0");
  for (const file of files.filter(Boolean)) {
    mkdirSync(join(dir, dirname(file)), { recursive: true });
    cpSync(join(repo, file), join(dir, file));
  }
  symlinkSync(join(repo, "node_modules"), join(dir, "node_modules"));
  return dir;
}

/** Reads KEY=value lines the way systemd's EnvironmentFile does (no quoting used by the installer). */
function environmentFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
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
    const agent = await run(process.execPath, [join(repo, "bin/telemetry-agent.js")], repo, {
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

  it("with --dry-run prints its plan (user, unit, systemctl) and changes nothing", async () => {
    const touched = [
      "/etc/telemetry-agent",
      "/opt/telemetry-agent",
      "/etc/systemd/system/telemetry-agent.service",
    ];
    const existed = touched.map((path) => existsSync(path));
    const result = await run("bash", [installer, "--dry-run", "--broker", "mqtts://mqtt.example.org:8883"]);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /would run: .*systemctl enable telemetry-agent\.service/);
    assert.match(
      result.output,
      /would run: install -m 0644 .* \/etc\/systemd\/system\/telemetry-agent\.service/,
    );
    assert.deepEqual(
      touched.map((path) => existsSync(path)),
      existed,
    );
  });

  describe("installed into a root directory from a fresh checkout", () => {
    const { mqttUrl } = sharedServices();
    const host = uniqueName("installed-");
    const root = mkdtempSync(join(tmpdir(), "agent-root-"));
    const secrets = mkdtempSync(join(tmpdir(), "agent-secrets-"));
    let install: Run;

    before(async () => {
      writeFileSync(join(secrets, "pw"), "never-logged-pw\n");
      writeFileSync(join(secrets, "ca.crt"), "not a real CA, only copied\n");
      install = await run("bash", [
        join(freshCheckout(), "deploy/agent/install.sh"),
        "--root",
        root,
        "--broker",
        mqttUrl,
        "--host",
        host,
        "--interval",
        "1",
        "--password-file",
        join(secrets, "pw"),
        "--ca-file",
        join(secrets, "ca.crt"),
      ]);
    });

    it("builds, installs and writes the settings with secrets readable by root and the agent's group only", () => {
      assert.equal(install.code, 0, install.output);
      const etc = join(root, "etc/telemetry-agent");
      const mode = (file: string) => statSync(join(etc, file)).mode & 0o777;
      assert.equal(statSync(etc).mode & 0o777, 0o750);
      assert.equal(mode("agent.env"), 0o640);
      assert.equal(mode("mqtt-password"), 0o640);
      assert.equal(mode("ca.crt"), 0o644);
      const env = environmentFile(join(etc, "agent.env"));
      assert.equal(env.MQTT_URL, mqttUrl);
      assert.equal(env.TELEMETRY_HOST, host);
      assert.equal(env.MQTT_PASSWORD_FILE, "/etc/telemetry-agent/mqtt-password");
      assert.ok(!readFileSync(join(etc, "agent.env"), "utf8").includes("never-logged-pw"));
    });

    it("puts nothing outside the paths the README's uninstall removes", () => {
      const readme = readFileSync(join(repo, "agent/README.md"), "utf8");
      const uninstall = /\*\*Uninstall\*\*[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
      const removed = [...uninstall.matchAll(/ (\/(?:etc|opt)\/\S+)/g)].map((m) => m[1]!);
      const files = execFileSync("find", [root, "-type", "f"], { encoding: "utf8" })
        .trim()
        .split("\n")
        .map((f) => f.slice(root.length));
      assert.ok(files.length > 0);
      for (const file of files)
        assert.ok(
          removed.some((path) => file === path || file.startsWith(`${path}/`)),
          `${file} is left behind`,
        );
    });

    it("runs, as systemd would start it, and publishes this machine's samples", async () => {
      const unit = readFileSync(join(root, "etc/systemd/system/telemetry-agent.service"), "utf8");
      const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1]?.split(" ") ?? [];
      assert.equal(execStart[1], "/opt/telemetry-agent/bin/telemetry-agent.js");
      // The unit names paths as they will be on the node; here they live under the root directory.
      const env = environmentFile(join(root, "etc/telemetry-agent/agent.env"));
      delete env.MQTT_PASSWORD_FILE; // an anonymous test broker on localhost
      delete env.MQTT_CA_FILE;
      const listener = await mqtt.connectAsync(mqttUrl, { clientId: uniqueName("listener") });
      const seen: string[] = [];
      listener.on("message", (topic, payload) => {
        if (decodeMessage(topic, payload.toString()).ok) seen.push(topic);
      });
      await listener.subscribeAsync(`telemetry/v1/${host}/#`, { qos: 1 });
      const agent = spawn(execStart[0]!, [join(root, execStart[1]!)], {
        env: { PATH: process.env.PATH, ...env },
        stdio: "ignore",
      });
      try {
        await waitFor("cpu, load and memory from the installed agent", () =>
          ["cpu", "load", "memory"].every((m) => seen.includes(`telemetry/v1/${host}/${m}`)),
        );
      } finally {
        const exited = new Promise<number | null>((r) => agent.once("exit", (code) => r(code)));
        agent.kill("SIGTERM");
        assert.equal(await exited, 0);
        await listener.endAsync();
      }
    });
  });
});
