import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { pbkdf2Sync, X509Certificate } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { promisify } from "node:util";
import { ensureDebianBinary } from "@cluster-telemetry/dev-stack";
import { spawnLive, tokenFileIn } from "../live/live-process.ts";
import { BASE, deploy, resolved, root } from "./compose-file.ts";

const SETUP_SCRIPT = join(deploy, "setup", "setup.sh");

describe("the compose setup steps (deploy/setup/setup.sh)", () => {
  // The steps chown files to the users of the images (Mosquitto 1883, node and Elasticsearch
  // 1000); like ensureDebianBinary, this needs root.
  const dir = mkdtempSync(join(tmpdir(), "compose-setup-"));
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    SETUP_ROOT: dir,
    MAKE_CERTS: `${process.execPath} --import tsx ${join(root, "deploy/certs/make-certs.ts")}`,
    MQTT_PUBLIC_HOSTS: "monitor.example.com,192.0.2.10",
    ELASTICSEARCH_PUBLIC_HOSTS: "",
    KIBANA_PUBLIC_HOSTS: "dash.example.com",
    LIVE_PUBLIC_HOSTS: "live.example.com",
    DEMO_AGENT_HOST: "demo-host",
    NODE_CERTS: "web-1, web-2",
    // Generated as .env.example says; the certs step refuses placeholders.
    ELASTIC_PASSWORD: "4f1c9a7e2b8d6035a1e9c7b2",
    KIBANA_SYSTEM_PASSWORD: "9d2e4b6a8c0f1357e9b2d4a6",
    REDIS_PASSWORD: "c3a5e7b9d1f2046813579bdf",
    KIBANA_ENCRYPTION_KEY: "0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091",
  };
  const step = (name: string, extra: Record<string, string> = {}) =>
    promisify(execFile)("sh", [SETUP_SCRIPT, name], {
      cwd: root,
      env: { ...env, ...extra },
      timeout: 60_000,
    });
  const stat = (path: string) => {
    const s = statSync(join(dir, path));
    return { uid: s.uid, gid: s.gid, mode: s.mode & 0o777 };
  };

  before(() => {
    ensureDebianBinary("mosquitto_passwd", "mosquitto");
    assert.equal(process.getuid?.(), 0, "the setup steps' tests set file owners and need root");
    mkdirSync(join(dir, "mosquitto", "config"), { recursive: true });
    mkdirSync(join(dir, "secrets"));
    cpSync(join(deploy, "mosquitto"), join(dir, "mosquitto", "config-src"), { recursive: true });
  });

  it("certs: one CA, and each service's volume holds only its own key, owned by its user", async () => {
    await step("certs");
    assert.deepEqual(readdirSync(join(dir, "tls", "ca")), ["ca.crt"]);
    assert.deepEqual(readdirSync(join(dir, "tls", "broker")).sort(), ["broker.crt", "broker.key", "ca.crt"]);
    assert.deepEqual(stat("tls/broker/broker.key"), { uid: 1883, gid: 1883, mode: 0o600 });
    for (const server of ["elasticsearch", "kibana"]) {
      assert.deepEqual(readdirSync(join(dir, "tls", server)).sort(), [
        "ca.crt",
        `${server}.crt`,
        `${server}.key`,
      ]);
      assert.deepEqual(stat(`tls/${server}/${server}.key`), { uid: 1000, gid: 0, mode: 0o600 });
    }
    assert.deepEqual(readdirSync(join(dir, "tls", "live")).sort(), ["ca.crt", "live.crt", "live.key"]);
    assert.deepEqual(stat("tls/live/live.key"), { uid: 1000, gid: 1000, mode: 0o600 });
    assert.deepEqual(stat("tls/demo-agent/client.key"), { uid: 1000, gid: 1000, mode: 0o600 });
    assert.deepEqual(stat("secrets"), { uid: 1000, gid: 1000, mode: 0o700 });
    assert.deepEqual(stat("live-secrets"), { uid: 1000, gid: 1000, mode: 0o700 });
    assert.equal(stat("authority").mode, 0o700);

    const ca = new X509Certificate(readFileSync(join(dir, "authority", "ca.crt")));
    const cert = (path: string) => new X509Certificate(readFileSync(join(dir, path)));
    const broker = cert("tls/broker/broker.crt");
    assert.ok(broker.verify(ca.publicKey));
    for (const name of ["DNS:mosquitto", "DNS:monitor.example.com", "IP Address:192.0.2.10"])
      assert.ok(broker.subjectAltName?.includes(name), `broker certificate names ${name}`);
    assert.ok(cert("tls/kibana/kibana.crt").subjectAltName?.includes("DNS:dash.example.com"));
    assert.ok(cert("tls/elasticsearch/elasticsearch.crt").subjectAltName?.includes("DNS:elasticsearch"));
    const live = cert("tls/live/live.crt");
    assert.ok(live.verify(ca.publicKey));
    for (const name of ["DNS:live", "DNS:localhost", "IP Address:127.0.0.1", "DNS:live.example.com"])
      assert.ok(live.subjectAltName?.includes(name), `telemetry-live's certificate names ${name}`);
    assert.equal(live.checkIP("127.0.0.1"), "127.0.0.1", "the health check's address");
    assert.match(cert("tls/demo-agent/client.crt").subject, /CN=demo-host/);
    for (const node of ["web-1", "web-2"]) assert.ok(existsSync(join(dir, "authority", `${node}.key`)));
  });

  it("live: the compose health check passes over HTTPS against telemetry-live serving its issued certificate", async () => {
    const tls = join(dir, "tls", "live");
    const live = await spawnLive([
      "--mqtt-url",
      process.env.MQTT_URL ?? "mqtt://127.0.0.1:1883",
      "--port",
      "0",
      "--tls-cert-file",
      join(tls, "live.crt"),
      "--tls-key-file",
      join(tls, "live.key"),
      "--auth-token-file",
      tokenFileIn(),
    ]);
    try {
      const { port, protocol } = new URL(live.url);
      assert.equal(protocol, "https:");
      // The container's paths and port, mapped to this test's certificate volume and free port.
      const test = resolved([BASE]).services.live!.healthcheck!.test as string[];
      assert.deepEqual(test.slice(0, 3), ["CMD", "node", "-e"]);
      const script = test[3]!.replace(":8080/", `:${port}/`).replaceAll("/run/telemetry/tls/", `${tls}/`);
      await promisify(execFile)(process.execPath, ["-e", script], { timeout: 30_000 });
    } finally {
      live.child.kill("SIGTERM");
      await live.exited;
    }
  });

  it("certs: runs again without replacing anything, and re-issues on request from the same CA", async () => {
    const key = () => readFileSync(join(dir, "tls", "broker", "broker.key"), "utf8");
    const ca = () => readFileSync(join(dir, "tls", "ca", "ca.crt"), "utf8");
    const [firstKey, firstCa] = [key(), ca()];
    await step("certs");
    assert.equal(key(), firstKey);
    await step("certs", { TLS_REISSUE: "true" });
    assert.notEqual(key(), firstKey);
    assert.equal(ca(), firstCa);
  });

  it("certs: refuses a node name that is not a host name", async () => {
    await assert.rejects(step("certs", { NODE_CERTS: "web-1,../../etc" }), /not a host name/);
  });

  it("broker: a password file whose entries match the generated secrets, readable by Mosquitto only", async () => {
    const { stdout, stderr } = await step("broker", { MQTT_NODE_USERS: "web-1" });
    const secret = readFileSync(join(dir, "secrets", "mqtt-ingest.password"), "utf8");
    assert.match(secret, /^[0-9a-f]{64}$/);
    assert.deepEqual(stat("secrets/mqtt-ingest.password"), { uid: 1000, gid: 1000, mode: 0o400 });
    assert.deepEqual(stat("mosquitto/config/passwords"), { uid: 1883, gid: 1883, mode: 0o600 });
    assert.deepEqual(stat("mosquitto/config/acl"), { uid: 1883, gid: 1883, mode: 0o600 });
    assert.equal(
      readFileSync(join(dir, "mosquitto/config/acl"), "utf8"),
      readFileSync(join(deploy, "mosquitto/acl"), "utf8"),
    );

    // One file per listener: nodes on 8883, the ingest on the services listener, the health check
    // on the loopback one (deploy/mosquitto/mosquitto.conf).
    const file = (name: string) =>
      readFileSync(join(dir, "mosquitto/config", name), "utf8")
        .trim()
        .split("\n")
        .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1)] as const);
    const files = {
      passwords: ["telemetry-viewer", "web-1"],
      "services.passwords": ["telemetry-ingest"],
      "local.passwords": ["healthcheck"],
    };
    for (const [name, users] of Object.entries(files)) {
      assert.deepEqual(
        file(name).map(([user]) => user),
        users,
        name,
      );
      assert.deepEqual(stat(`mosquitto/config/${name}`), { uid: 1883, gid: 1883, mode: 0o600 });
    }
    const entries = new Map(Object.keys(files).flatMap(file));
    const matches = (user: string, password: string) => {
      // Mosquitto 2's format: $7$<iterations>$<salt>$<PBKDF2-SHA512>, both base64.
      const [, kind, rounds, salt, hash] = entries.get(user)!.split("$");
      assert.equal(kind, "7");
      const derived = pbkdf2Sync(password, Buffer.from(salt!, "base64"), Number(rounds), 64, "sha512");
      return derived.toString("base64") === hash;
    };
    assert.ok(matches("telemetry-ingest", secret), "the ingest's secret logs in as telemetry-ingest");
    const probe = readFileSync(join(dir, "mosquitto/config/healthcheck.password"), "utf8");
    assert.ok(matches("healthcheck", probe));
    const node = readFileSync(join(dir, "mosquitto/config/nodes/web-1.password"), "utf8");
    assert.ok(matches("web-1", node));
    for (const value of [secret, probe, node])
      assert.ok(!(stdout + stderr).includes(value), "no secret printed");
  });

  it("broker: keeps the ingest's password across runs and drops nodes no longer listed", async () => {
    const secret = readFileSync(join(dir, "secrets", "mqtt-ingest.password"), "utf8");
    await step("broker", { MQTT_NODE_USERS: "" });
    assert.equal(readFileSync(join(dir, "secrets", "mqtt-ingest.password"), "utf8"), secret);
    assert.deepEqual(
      readFileSync(join(dir, "mosquitto/config/passwords"), "utf8")
        .trim()
        .split("\n")
        .map((line) => line.split(":")[0]),
      ["telemetry-viewer"],
      "no node account left",
    );
    const services = readFileSync(join(dir, "mosquitto/config/services.passwords"), "utf8");
    assert.deepEqual(
      services
        .trim()
        .split("\n")
        .map((line) => line.split(":")[0]),
      ["telemetry-ingest"],
    );
  });
});
