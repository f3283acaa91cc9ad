import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { before, describe, it } from "node:test";
import { promisify } from "node:util";
import { SERVICE_ACCOUNTS } from "../../../deploy/certs/service-accounts.ts";
import { MosquittoService, ensureDebianBinary, freePort } from "@cluster-telemetry/dev-stack";
import { BASE, resolved } from "../compose-file.ts";

const root = resolve(import.meta.dirname, "..", "..", "..");
const deploy = join(root, "deploy");

/** The values .env.example ships with: what an operator who forgot to replace them runs. */
function envExampleSecrets(): Record<string, string> {
  const names = ["ELASTIC_PASSWORD", "KIBANA_SYSTEM_PASSWORD", "KIBANA_ENCRYPTION_KEY", "REDIS_PASSWORD"];
  const lines = readFileSync(join(deploy, ".env.example"), "utf8").split("\n");
  return Object.fromEntries(
    names.map((name) => [name, lines.find((l) => l.startsWith(`${name}=`))!.slice(name.length + 1)]),
  );
}

const generated = {
  ELASTIC_PASSWORD: "4f1c9a7e2b8d6035a1e9c7b2",
  KIBANA_SYSTEM_PASSWORD: "9d2e4b6a8c0f1357e9b2d4a6",
  REDIS_PASSWORD: "c3a5e7b9d1f2046813579bdf",
  KIBANA_ENCRYPTION_KEY: "0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091",
};

describe("the compose setup steps refuse what would weaken the deployment (deploy/setup/setup.sh)", () => {
  const dir = mkdtempSync(join(tmpdir(), "setup-sh-"));
  // A mosquitto_passwd ahead of the real one on PATH that records every command line it is given.
  const wrappers = join(dir, "bin");
  const argvLog = join(dir, "mosquitto_passwd.argv");
  const env = {
    PATH: `${wrappers}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    SETUP_ROOT: dir,
    MAKE_CERTS: `${process.execPath} --import tsx ${join(root, "deploy/certs/make-certs.ts")}`,
    DEMO_AGENT_HOST: "demo-host",
    ...generated,
  };
  const step = (name: string, extra: Record<string, string> = {}) =>
    promisify(execFile)("sh", [join(deploy, "setup", "setup.sh"), name], {
      cwd: root,
      env: { ...env, ...extra },
      timeout: 60_000,
    });
  const failure = async (name: string, extra: Record<string, string>) => {
    const error = (await step(name, extra).then(
      () => assert.fail(`setup.sh ${name} accepted ${JSON.stringify(extra)}`),
      (e: unknown) => e,
    )) as { code: number; stdout: string; stderr: string };
    assert.equal(error.code, 1);
    return `${error.stdout}${error.stderr}`;
  };

  before(() => {
    const real = ensureDebianBinary("mosquitto_passwd", "mosquitto");
    assert.equal(process.getuid?.(), 0, "the setup steps set file owners and need root");
    mkdirSync(wrappers);
    writeFileSync(
      join(wrappers, "mosquitto_passwd"),
      `#!/bin/sh\nprintf '%s\\n' "$*" >> '${argvLog}'\nexec '${real}' "$@"\n`,
    );
    chmodSync(join(wrappers, "mosquitto_passwd"), 0o755);
    mkdirSync(join(dir, "mosquitto", "config"), { recursive: true });
    mkdirSync(join(dir, "secrets"));
    mkdirSync(join(dir, "wrong", "healthcheck"), { recursive: true });
    cpSync(join(deploy, "mosquitto"), join(dir, "mosquitto", "config-src"), { recursive: true });
  });

  it("broker: never puts a password on mosquitto_passwd's command line, where ps shows it", async () => {
    await step("broker", { MQTT_NODE_USERS: "web-1,web-2" });
    const commandLines = readFileSync(argvLog, "utf8");
    assert.notEqual(commandLines, "", "mosquitto_passwd ran");
    const secrets = [
      readFileSync(join(dir, "secrets", "mqtt-ingest.password"), "utf8"),
      readFileSync(join(dir, "mosquitto/config/healthcheck.password"), "utf8"),
      readFileSync(join(dir, "mosquitto/config/nodes/web-1.password"), "utf8"),
      readFileSync(join(dir, "mosquitto/config/nodes/web-2.password"), "utf8"),
    ];
    for (const secret of secrets)
      assert.ok(!commandLines.includes(secret.trim()), "a password was an argument");
    // Hashed in place: no password file keeps a clear-text secret.
    for (const file of ["passwords", "services.passwords", "local.passwords"]) {
      const text = readFileSync(join(dir, "mosquitto/config", file), "utf8");
      for (const secret of secrets)
        assert.ok(!text.includes(secret.trim()), `${file} holds a secret in clear`);
    }
  });

  it("broker: the compose health check logs in from an options file, with no password on its command line", async () => {
    // The probe exactly as compose runs it, against a broker reading the loopback listener's
    // password file that the step wrote.
    const probe = [resolved([BASE]).services.mosquitto!.healthcheck!.test!].flat().slice(1).join(" ");
    assert.doesNotMatch(probe, /\s-P\s|password/, "the probe carries its password itself");
    const port = await freePort();
    const config = join(dir, "mosquitto", "config");
    const broker = await MosquittoService.start({
      port,
      listeners: `listener ${port} 127.0.0.1\nallow_anonymous false\npassword_file ${join(config, "local.passwords")}\n`,
    });
    try {
      const run = (root: string) =>
        promisify(execFile)("sh", [
          "-c",
          probe.replaceAll("/mosquitto/config", root).replace("-p 1883", `-p ${port}`),
        ]);
      await run(config);
      writeFileSync(join(dir, "wrong", "healthcheck", "mosquitto_pub"), "-u healthcheck\n-P wrong\n");
      await assert.rejects(run(join(dir, "wrong")), "a wrong password passes the probe");
    } finally {
      await broker.process.stop();
    }
  });

  for (const name of [...SERVICE_ACCOUNTS, "telemetry-ingest-1", "Telemetry-Viewer"]) {
    it(`refuses a node named ${name}, a service's account or client id, in both steps`, async () => {
      assert.match(
        await failure("broker", { MQTT_NODE_USERS: `web-1,${name}` }),
        /kept for the deployment's services/,
      );
      assert.match(await failure("certs", { NODE_CERTS: name }), /kept for the deployment's services/);
    });
  }

  it("certs: refuses .env.example's placeholders, naming each variable and printing no value", async () => {
    const placeholders = envExampleSecrets();
    const output = await failure("certs", placeholders);
    for (const [name, value] of Object.entries(placeholders)) {
      assert.match(output, new RegExp(`${name} in deploy/.env is a placeholder`), name);
      assert.ok(!output.includes(value), `${name}'s value was printed`);
    }
  });

  it("certs: refuses a secret too short to be generated, and Kibana's key under 32 characters", async () => {
    assert.match(
      await failure("certs", { REDIS_PASSWORD: "hunter2" }),
      /REDIS_PASSWORD in deploy\/.env is shorter than 16 characters/,
    );
    assert.match(
      await failure("certs", { KIBANA_ENCRYPTION_KEY: "0123456789abcdef0123456789abcde" }),
      /KIBANA_ENCRYPTION_KEY in deploy\/.env is shorter than 32 characters/,
    );
    await step("certs");
  });
});
