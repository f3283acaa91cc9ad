import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import mqtt from "mqtt";
import { decodeMessage } from "@cluster-telemetry/contract";
import { buildAgentPackage, type AgentPackage } from "../../../deploy/package/build-agent-package.ts";
import { INSTALLED } from "../../../deploy/package/agent-package-layout.ts";
import { cachedDebianRoot, DebianChroot, type ChrootRun } from "@cluster-telemetry/dev-stack";
import { sharedServices, uniqueName } from "@cluster-telemetry/dev-stack";
import { waitFor } from "@cluster-telemetry/dev-stack";

// A throwaway root: dpkg need not fsync every file it unpacks.
const apt = "DEBIAN_FRONTEND=noninteractive apt-get --yes --quiet -o DPkg::Options::=--force-unsafe-io";

function ok(run: ChrootRun): string {
  assert.equal(run.code, 0, run.output);
  return run.output;
}

// A Debian 12 system (what Raspberry Pi OS 12 is built on) without a running systemd: apt resolves
// Debian's own nodejs 18, the maintainer scripts run, and the agent runs on that Node.js.
describe("the agent's .deb on Debian 12", () => {
  const { mqttUrl } = sharedServices();
  const host = uniqueName("deb-");
  const out = mkdtempSync(join(tmpdir(), "agent-deb-"));
  let chroot: DebianChroot;
  let first: AgentPackage;
  let second: AgentPackage;
  let installed: ChrootRun;

  before(async () => {
    chroot = new DebianChroot(cachedDebianRoot());
    first = await buildAgentPackage({ outDir: join(out, "first"), version: "1.0.0" });
    second = await buildAgentPackage({ outDir: join(out, "second"), version: "1.0.1" });
    for (const built of [first, second]) copyFileSync(built.deb, join(chroot.shared, basename(built.deb)));
    installed = await chroot.sh(`${apt} install /mnt/${basename(first.deb)} 2>&1`);
  });
  after(() => {
    chroot?.remove();
    rmSync(out, { recursive: true, force: true });
  });

  it("installs with apt, which pulls Debian's nodejs 18, and asks for a broker instead of starting", async () => {
    const output = ok(installed);
    assert.match(output, /Setting up nodejs \(18\./);
    assert.match(output, /Setting up telemetry-agent \(1\.0\.0\)/);
    assert.match(output, /set MQTT_URL in \/etc\/telemetry-agent\/agent\.env/);
    assert.match(ok(await chroot.sh("node --version")), /^v18\./);
  });

  it("creates the system user, the settings readable by its group only, and enables the unit", async () => {
    const state = ok(
      await chroot.sh(
        [
          "getent passwd telemetry-agent | cut -d: -f6,7",
          `stat -c '%a %U:%G %n' /etc/telemetry-agent ${INSTALLED.envFile} ${INSTALLED.stateDir}`,
          "readlink /etc/systemd/system/multi-user.target.wants/telemetry-agent.service",
        ].join("; "),
      ),
    );
    assert.deepEqual(state.trim().split("\n"), [
      "/nonexistent:/usr/sbin/nologin",
      "750 root:telemetry-agent /etc/telemetry-agent",
      `640 root:telemetry-agent ${INSTALLED.envFile}`,
      `750 telemetry-agent:telemetry-agent ${INSTALLED.stateDir}`,
      INSTALLED.unit,
    ]);
  });

  it("runs --once on Debian's Node.js 18 and prints valid messages of this version", async () => {
    const lines = ok(await chroot.sh("telemetry-agent --once --host deb-once 2>/dev/null"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { topic: string; payload: unknown });
    assert.ok(lines.length >= 3, `${lines.length} messages`);
    for (const { topic, payload } of lines) {
      const decoded = decodeMessage(topic, JSON.stringify(payload));
      assert.ok(decoded.ok, `${topic}: ${decoded.ok ? "" : decoded.reason}`);
      assert.equal((payload as { agent: { version: string } }).agent.version, "1.0.0");
    }
  });

  it("once the operator sets the broker, runs as the unit would and publishes to it, and stops on SIGTERM", async () => {
    ok(
      await chroot.sh(
        `printf 'MQTT_URL=%s\\nTELEMETRY_HOST=%s\\nTELEMETRY_INTERVAL=1\\nTELEMETRY_JITTER=0\\n' '${mqttUrl}' '${host}' >> ${INSTALLED.envFile}`,
      ),
    );
    const listener = await mqtt.connectAsync(mqttUrl, { clientId: uniqueName("deb-listener") });
    const seen = new Map<string, string>();
    listener.on("message", (topic, payload) => {
      const decoded = decodeMessage(topic, payload.toString());
      if (decoded.ok) seen.set(topic.split("/").pop()!, decoded.text);
    });
    await listener.subscribeAsync(`telemetry/v2/${host}/#`, { qos: 1 });
    // The unit's own command line, as its user, with its environment file: what systemd would run.
    const agent = chroot.spawn(
      [
        `set -a; . ${INSTALLED.envFile}; set +a`,
        `exec setpriv --reuid=telemetry-agent --regid=telemetry-agent --init-groups $(sed -n 's/^ExecStart=//p' ${INSTALLED.unit})`,
      ].join("\n"),
    );
    let log = "";
    agent.stderr?.on("data", (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((r) => agent.once("exit", (code) => r(code)));
    try {
      try {
        await waitFor("cpu, load and memory from the installed agent", () =>
          ["cpu", "load", "memory"].every((metric) => seen.has(metric)),
        ).catch((error: Error) => {
          throw new Error(`${error.message}; the agent's log:\n${log}`);
        });
        assert.equal((JSON.parse(seen.get("cpu")!) as { agent: { version: string } }).agent.version, "1.0.0");
      } finally {
        agent.kill("SIGTERM");
      }
      assert.equal(await exited, 0, log);
      await waitFor("the offline status", () => seen.get("status")?.includes('"offline"') ?? false);
    } finally {
      // Also on a failure: an open connection would keep the test process alive.
      await listener.endAsync(true);
    }
  });

  it("upgrades to a newer .deb with apt, keeping the operator's agent.env", async () => {
    ok(await chroot.sh(`${apt} install /mnt/${basename(second.deb)} 2>&1`));
    const after = ok(
      await chroot.sh(
        `dpkg-query -W -f='\${Version}\\n' telemetry-agent; telemetry-agent --version; grep -c '^TELEMETRY_HOST=${host}$' ${INSTALLED.envFile}; stat -c '%a %U:%G' ${INSTALLED.envFile}`,
      ),
    );
    assert.deepEqual(after.trim().split("\n"), ["1.0.1", "1.0.1", "1", "640 root:telemetry-agent"]);
  });

  it("on removal deletes the program but keeps the settings and the user", async () => {
    ok(await chroot.sh(`${apt} remove telemetry-agent 2>&1`));
    const state = ok(
      await chroot.sh(
        `dpkg-query -W -f='\${db:Status-Abbrev}\\n' telemetry-agent; test -e ${INSTALLED.bundle} || echo no-bundle; grep -c '^TELEMETRY_HOST=' ${INSTALLED.envFile}; getent passwd telemetry-agent >/dev/null && echo user`,
      ),
    );
    assert.deepEqual(
      state
        .trim()
        .split("\n")
        .map((line) => line.trim()),
      ["rc", "no-bundle", "1", "user"],
    );
  });

  it("on purge leaves nothing behind: settings, spool, ownership overrides, unit links, user", async () => {
    ok(await chroot.sh(`${apt} purge telemetry-agent 2>&1`));
    const left = await chroot.sh(
      [
        "dpkg-query -W telemetry-agent 2>/dev/null",
        "ls -d /etc/telemetry-agent /var/lib/telemetry-agent 2>/dev/null",
        "ls /etc/systemd/system/multi-user.target.wants/ 2>/dev/null | grep telemetry",
        "find /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked -name 'telemetry*' 2>/dev/null",
        "dpkg-statoverride --list | grep telemetry",
        "getent passwd telemetry-agent; getent group telemetry-agent",
        "true",
      ].join("; "),
    );
    assert.equal(ok(left).trim(), "");
  });

  it("is what deploy/agent/install.sh installs, writing the settings and the secrets beside them", async () => {
    copyFileSync(
      resolve(import.meta.dirname, "../../../deploy/agent/install.sh"),
      join(chroot.shared, "install.sh"),
    );
    writeFileSync(join(chroot.shared, "pw"), "never-logged-pw\n");
    const output = ok(
      await chroot.sh(
        `bash /mnt/install.sh --deb /mnt/${basename(second.deb)} --broker '${mqttUrl}' --host '${host}' --password-file /mnt/pw 2>&1`,
      ),
    );
    assert.match(output, /systemd is not running here/);
    const state = ok(
      await chroot.sh(
        `grep -E '^(MQTT_URL|TELEMETRY_HOST|MQTT_PASSWORD_FILE)=' ${INSTALLED.envFile}; stat -c '%a %U:%G' ${INSTALLED.envFile} /etc/telemetry-agent/mqtt-password`,
      ),
    );
    assert.deepEqual(state.trim().split("\n"), [
      `MQTT_URL=${mqttUrl}`,
      `TELEMETRY_HOST=${host}`,
      "MQTT_PASSWORD_FILE=/etc/telemetry-agent/mqtt-password",
      "640 root:telemetry-agent",
      "640 root:telemetry-agent",
    ]);
  });
});
