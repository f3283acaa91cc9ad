import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { pbkdf2Sync, X509Certificate } from "node:crypto";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { buildIndexTemplates } from "../../ingest/src/setup/index-templates.ts";
import { ensureDebianBinary, which } from "@cluster-telemetry/dev-stack";
import { spawnLive, tokenFileIn } from "../live/live-process.ts";
import {
  BASE,
  ENV_EXAMPLE,
  GIB,
  SCALE,
  bytes,
  composeConfig,
  deploy,
  published,
  resolved,
  root,
  type Compose,
  type Service,
} from "./compose-file.ts";

const SETUP_SCRIPT = join(deploy, "setup", "setup.sh");

const isOneShot = (s: Service) => s.restart === "no";
const hasHealthcheck = (s: Service) => {
  const test = s.healthcheck?.test;
  return Boolean(test) && !s.healthcheck?.disable && !(Array.isArray(test) && test[0] === "NONE");
};
const dependencies = (s: Service): [string, string | undefined][] =>
  Array.isArray(s.depends_on)
    ? s.depends_on.map((name) => [name, undefined])
    : Object.entries(s.depends_on ?? {}).map(([name, d]) => [name, d.condition]);

function volumeMounts(service: Service): { source: string; target: string; readOnly: boolean }[] {
  return (service.volumes ?? []).map((v) => {
    if (typeof v !== "string") return { source: v.source ?? "", target: v.target, readOnly: !!v.read_only };
    const [source, target, mode] = v.split(":");
    return { source: source!, target: target!, readOnly: mode === "ro" };
  });
}

/**
 * Every ${NAME…} in a compose file, with its operator; $${…} is an escaped dollar, not a variable,
 * and comments are not interpolated.
 */
function variables(text: string): { name: string; operator: string }[] {
  const code = text.replace(/^\s*#.*$/gm, "");
  return [...code.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?/g)].map((m) => ({
    name: m[1]!,
    operator: m[2] ?? "",
  }));
}

function envExample(): Map<string, string> {
  const entries = readFileSync(ENV_EXAMPLE, "utf8")
    .split("\n")
    .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line))
    .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)] as const);
  return new Map(entries);
}

describe("deploy/docker-compose.yml", () => {
  let base: Compose;
  let scaled: Compose;

  before(() => {
    ensureDebianBinary("docker-compose", "docker-compose");
    assert.ok(which("python3"), "python3 comes with docker-compose");
    base = resolved([BASE]);
    scaled = resolved([BASE, SCALE]);
  });

  it("validates with docker-compose config, alone and with the scale override", () => {
    for (const files of [[BASE], [BASE, SCALE]]) {
      const result = composeConfig(files, ENV_EXAMPLE);
      assert.equal(result.status, 0, result.stderr);
    }
    for (const name of ["elasticsearch", "kibana", "mosquitto", "redis", "ingest", "setup", "demo-agent"])
      assert.ok(base.services[name], `service ${name}`);
    assert.deepEqual(base.services["demo-agent"]!.profiles, ["demo"]);
  });

  it("refuses to start without the secrets instead of running with empty ones", () => {
    const empty = join(mkdtempSync(join(tmpdir(), "compose-env-")), "empty.env");
    writeFileSync(empty, "");
    const result = composeConfig([BASE], empty);
    assert.notEqual(result.status, 0);
    assert.match(
      result.stderr,
      /(ELASTIC_PASSWORD|KIBANA_SYSTEM_PASSWORD|KIBANA_ENCRYPTION_KEY|REDIS_PASSWORD)/,
    );
  });

  it("gives every long-running service a health check and marks every one-shot step", () => {
    for (const compose of [base, scaled]) {
      for (const [name, service] of Object.entries(compose.services)) {
        assert.ok(
          ["no", "unless-stopped", "always"].includes(service.restart ?? ""),
          `${name} states its restart policy`,
        );
        if (!isOneShot(service)) assert.ok(hasHealthcheck(service), `${name} has a health check`);
      }
    }
    const oneShots = Object.keys(base.services).filter((n) => isOneShot(base.services[n]!));
    assert.deepEqual(oneShots.sort(), ["broker-setup", "certs", "dashboards", "setup"]);
  });

  it("orders start-up by health and completion, never by mere start", () => {
    for (const compose of [base, scaled]) {
      for (const [name, service] of Object.entries(compose.services)) {
        for (const [dependency, condition] of dependencies(service)) {
          const target = compose.services[dependency];
          assert.ok(target, `${name} depends on a service that exists (${dependency})`);
          const expected = isOneShot(target) ? "service_completed_successfully" : "service_healthy";
          assert.equal(condition, expected, `${name} → ${dependency}`);
        }
      }
    }
    const ingest = new Map(dependencies(base.services.ingest!));
    assert.equal(ingest.get("setup"), "service_completed_successfully");
    for (const backend of ["mosquitto", "redis", "elasticsearch"])
      assert.equal(ingest.get(backend), "service_healthy");
    assert.equal(new Map(dependencies(base.services.kibana!)).get("setup"), "service_completed_successfully");
  });

  it("pins every image to a version", () => {
    for (const [name, service] of Object.entries(scaled.services)) {
      assert.ok(service.image, `${name} names its image`);
      const tag = /:([^/:]+)$/.exec(service.image)?.[1];
      assert.ok(tag, `${name}: ${service.image} has a tag`);
      assert.notEqual(tag, "latest", name);
      assert.match(tag, /\d/, `${name}: ${service.image} is a version, not a moving name`);
    }
    const version = (name: string) => /:(.+)$/.exec(base.services[name]!.image!)![1];
    assert.equal(version("elasticsearch"), "9.5.3");
    assert.equal(version("kibana"), version("elasticsearch"), "Kibana matches Elasticsearch");
    assert.match(version("mosquitto")!, /^2\.0\.\d+/);
    assert.match(version("redis")!, /^7\.\d+\.\d+/);
  });

  it("keeps state in named volumes and mounts host paths read-only", () => {
    const declared = new Set(Object.keys(scaled.volumes ?? {}));
    const used = new Set<string>();
    for (const [name, service] of Object.entries(scaled.services)) {
      for (const mount of volumeMounts(service)) {
        if (mount.source.startsWith("/")) {
          assert.ok(mount.readOnly, `${name}: host path ${mount.source} is mounted read-only`);
        } else {
          assert.ok(declared.has(mount.source), `${name}: volume ${mount.source} is declared`);
          used.add(mount.source);
        }
      }
    }
    assert.deepEqual([...declared].sort(), [...used].sort(), "every declared volume is used");
    const state: [string, string][] = [
      ["elasticsearch", "/usr/share/elasticsearch/data"],
      ["kibana", "/usr/share/kibana/data"],
      ["redis", "/data"],
      ["mosquitto", "/mosquitto/data"],
    ];
    for (const [name, target] of state) {
      const mount = volumeMounts(base.services[name]!).find((m) => m.target === target);
      assert.ok(mount && declared.has(mount.source), `${name} keeps ${target} in a named volume`);
    }
  });

  it("keeps the CA key and the generated credentials away from long-running services", () => {
    for (const [name, service] of Object.entries(scaled.services)) {
      const sources = volumeMounts(service);
      if (!isOneShot(service))
        assert.ok(!sources.some((m) => m.source === "authority"), `${name} does not mount the CA key`);
      const secrets = sources.find((m) => m.source === "secrets");
      if (secrets && !isOneShot(service)) {
        assert.ok(name.startsWith("ingest"), `only the ingest reads the generated credentials, not ${name}`);
        assert.ok(secrets.readOnly, `${name} mounts the secrets read-only`);
      }
      const live = sources.find((m) => m.source === "live-secrets");
      if (live && !isOneShot(service)) {
        assert.equal(name, "live", `only telemetry-live reads its credentials, not ${name}`);
        assert.ok(live.readOnly, "telemetry-live mounts its secrets read-only");
      }
    }
    const writers = Object.keys(base.services).filter((n) =>
      volumeMounts(base.services[n]!).some((m) => m.source === "live-secrets" && !m.readOnly),
    );
    assert.deepEqual(writers.sort(), ["broker-setup", "certs", "setup"], "only setup steps write them");
  });

  it("gives telemetry-live its history through its own read-only key and serves its page over HTTPS", () => {
    const live = base.services.live!;
    const env = live.environment ?? {};
    assert.match(env.ELASTICSEARCH_URL ?? "", /^https:\/\/elasticsearch:9200$/);
    assert.equal(env.ELASTICSEARCH_API_KEY, undefined, "no API key in the environment");
    assert.equal(env.LIVE_NAMESPACE, base.services.ingest!.environment?.INGEST_NAMESPACE);
    const mounted = (path: string | null | undefined) =>
      volumeMounts(live).find((m) => (path ?? "").startsWith(`${m.target}/`))?.source;
    // The key the setup step writes is the one telemetry-live reads, through the same volume.
    const setupEnv = base.services.setup!.environment ?? {};
    assert.equal(env.ELASTICSEARCH_API_KEY_FILE, setupEnv.LIVE_API_KEY_FILE);
    assert.equal(mounted(env.ELASTICSEARCH_API_KEY_FILE), "live-secrets");
    const setupMount = volumeMounts(base.services.setup!).find((m) => m.source === "live-secrets");
    assert.ok(setupMount && setupEnv.LIVE_API_KEY_FILE?.startsWith(`${setupMount.target}/`));
    // Its own certificate and key, issued by the certs step into the volume it mounts.
    for (const key of ["LIVE_TLS_CERT_FILE", "LIVE_TLS_KEY_FILE", "ELASTICSEARCH_CA_FILE", "MQTT_CA_FILE"])
      assert.equal(mounted(env[key]), "tls-live", `${key} is in telemetry-live's TLS volume`);
    assert.ok(
      volumeMounts(base.services.certs!).some((m) => m.source === "tls-live" && !m.readOnly),
      "the certs step fills tls-live",
    );
    assert.ok("LIVE_PUBLIC_HOSTS" in (base.services.certs!.environment ?? {}), "its public names");
    const probe = [live.healthcheck?.test ?? []].flat().join(" ");
    assert.match(probe, /https:\/\/127\.0\.0\.1:8080\/healthz/, "the health check speaks HTTPS");
    assert.ok(probe.includes("/run/telemetry/tls/ca.crt"), "the health check trusts the deployment's CA");
    assert.doesNotMatch(probe, /http:\/\//);
    const dependsOn = new Map(dependencies(live));
    assert.equal(dependsOn.get("setup"), "service_completed_successfully", "the key exists before it starts");
    assert.equal(dependsOn.get("elasticsearch"), "service_healthy");
    const networks = Array.isArray(live.networks) ? live.networks : Object.keys(live.networks ?? {});
    assert.ok(networks.includes("default"), "on Elasticsearch's network");
    assert.equal(published(live).find((p) => p.target === 8080)?.hostIp, "127.0.0.1", "this host only");
  });

  it("passes telemetry-live only settings its configuration reads", () => {
    const source = readFileSync(join(root, "live/src/config/live-config.ts"), "utf8");
    const known = new Set([...source.matchAll(/"([A-Z][A-Z0-9_]+)"/g)].map((m) => m[1]));
    for (const key of Object.keys(base.services.live!.environment ?? {}))
      assert.ok(known.has(key), `telemetry-live reads ${key}`);
  });

  it("fits an 8 GB host, with Elasticsearch's heap at half its limit", () => {
    for (const compose of [base, scaled]) {
      const total = Object.entries(compose.services).reduce((sum, [n, s]) => sum + bytes(s.mem_limit, n), 0);
      assert.ok(total <= 8 * GIB, `memory limits add up to ${(total / GIB).toFixed(2)} GiB`);
    }
    const es = base.services.elasticsearch!;
    const heap = /-Xmx(\d+)([mg])/.exec(es.environment?.ES_JAVA_OPTS ?? "");
    assert.ok(heap, "Elasticsearch's heap is set");
    const heapBytes = Number(heap[1]) * (heap[2] === "g" ? GIB : 1024 ** 2);
    assert.ok(heapBytes <= bytes(es.mem_limit, "elasticsearch") / 2);
    assert.match(es.environment?.ES_JAVA_OPTS ?? "", /-Xms(\d+[mg]) -Xmx\1/, "fixed heap size");
  });

  it("documents every variable in .env.example, each with a default or a required check", () => {
    const documented = envExample();
    const used = new Set<string>();
    for (const file of [BASE, SCALE]) {
      for (const { name, operator } of variables(readFileSync(file, "utf8"))) {
        assert.ok(documented.has(name), `${name} (${file}) is in .env.example`);
        assert.ok([":-", ":?"].includes(operator), `${name} has a default (:-) or a required check (:?)`);
        if (operator === ":?")
          assert.match(documented.get(name)!, /change-me/, `${name} is a placeholder in .env.example`);
        used.add(name);
      }
    }
    for (const name of documented.keys()) assert.ok(used.has(name), `${name} in .env.example is used`);
  });

  it("publishes MQTT only over TLS, and keeps Redis and the internal listeners private", () => {
    const mqtt = published(base.services.mosquitto!).map((p) => p.target);
    assert.ok(mqtt.includes(8883), "8883 (TLS) is published");
    assert.ok(!mqtt.includes(1883), "plain MQTT is not published");
    assert.ok(!mqtt.includes(8885), "the services listener is not published");
    assert.deepEqual(published(base.services.redis!), []);
    for (const [name, port] of [
      ["elasticsearch", 9200],
      ["ingest", 9464],
    ] as const) {
      const entry = published(base.services[name]!).find((p) => p.target === port);
      assert.equal(entry?.hostIp, "127.0.0.1", `${name}:${port} binds to this host only by default`);
    }
  });

  it("builds the ingest from the repository's Dockerfile and runs it over TLS with file-based credentials", () => {
    const ingest = base.services.ingest!;
    assert.equal(resolve(ingest.build!.context), root);
    assert.ok(existsSync(join(root, ingest.build!.dockerfile ?? "Dockerfile")));
    for (const [name, service] of Object.entries(base.services)) {
      if (service.image === ingest.image)
        assert.deepEqual(service.build, ingest.build, `${name} builds the same image`);
    }
    const env = ingest.environment ?? {};
    assert.match(env.MQTT_URL ?? "", /^mqtts:\/\//);
    assert.match(env.ELASTICSEARCH_URL ?? "", /^https:\/\//);
    for (const key of [
      "MQTT_PASSWORD_FILE",
      "MQTT_CA_FILE",
      "ELASTICSEARCH_API_KEY_FILE",
      "ELASTICSEARCH_CA_FILE",
    ])
      assert.ok(env[key], key);
    assert.equal(env.MQTT_PASSWORD, undefined, "no password in the environment");
    assert.equal(env.ELASTICSEARCH_API_KEY, undefined, "no API key in the environment");
  });

  it("passes the ingest only settings its configuration reads", () => {
    const source = readFileSync(join(root, "ingest/src/config/ingest-config.ts"), "utf8");
    const known = new Set([...source.matchAll(/"([A-Z][A-Z0-9_]+)"/g)].map((m) => m[1]));
    for (const key of Object.keys(base.services.ingest!.environment ?? {}))
      assert.ok(known.has(key), `the ingest reads ${key}`);
  });

  it("scales the ingest on one shared subscription, each replica with its own stable session", () => {
    const replicas = Object.keys(scaled.services).filter((n) => /^ingest(-\d+)?$/.test(n));
    assert.ok(replicas.length >= 3, `${replicas.length} ingest instances`);
    const env = (name: string) => scaled.services[name]!.environment ?? {};
    const groups = new Set(replicas.map((n) => env(n).INGEST_SHARE_GROUP));
    assert.equal(groups.size, 1, "one share group");
    assert.ok([...groups][0], "the share group is set");
    assert.equal(env("ingest").INGEST_SHARE_GROUP, base.services.ingest!.environment?.INGEST_SHARE_GROUP);
    const ids = replicas.map((n) => env(n).MQTT_CLIENT_ID);
    assert.equal(new Set(ids).size, replicas.length, `distinct client ids: ${ids.join(", ")}`);
    for (const name of replicas) {
      const { MQTT_CLIENT_ID: _id, ...rest } = env(name);
      const { MQTT_CLIENT_ID: _first, ...first } = env("ingest");
      assert.deepEqual(rest, first, `${name} is configured like ingest`);
      assert.deepEqual(scaled.services[name]!.depends_on, scaled.services.ingest!.depends_on, name);
      if (name !== "ingest")
        assert.deepEqual(published(scaled.services[name]!), [], `${name} publishes no port`);
    }
  });
});

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

interface Recorded {
  method: string;
  path: string;
  authorization: string;
  body: Record<string, unknown>;
}

/**
 * A stand-in for Elasticsearch's security and template APIs: records what the setup step asks for,
 * with which credentials, and answers like Elasticsearch does.
 */
function fakeElasticsearch(options: { keyServes: () => boolean }) {
  const requests: Recorded[] = [];
  let keys = 0;
  // The role descriptors each key was created with, as GET /_security/api_key returns them.
  const descriptors = new Map<string, unknown>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0]!;
      const record = {
        method: req.method ?? "",
        path,
        authorization: req.headers.authorization ?? "",
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      };
      requests.push(record);
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json", "x-elastic-product": "Elasticsearch" });
        res.end(JSON.stringify(body));
      };
      if (path === "/_cluster/health") return reply(200, { status: "green" });
      if (/^\/_security\/user\/kibana_system\/_password$/.test(path)) return reply(200, {});
      if (path.startsWith("/_security/role/")) return reply(200, { role: { created: true } });
      if (path === "/_security/api_key" && (req.method === "POST" || req.method === "PUT")) {
        keys += 1;
        const id = `key-${keys}`;
        const secret = `secret-${keys}-${Math.random().toString(36).slice(2)}`;
        const encoded = Buffer.from(`${id}:${secret}`).toString("base64");
        descriptors.set(id, record.body.role_descriptors);
        return reply(200, { id, name: record.body.name, api_key: secret, encoded });
      }
      if (path === "/_security/api_key" && req.method === "GET") {
        const id = new URL(req.url ?? "", "http://x").searchParams.get("id") ?? "";
        return reply(200, { api_keys: [{ id, role_descriptors: descriptors.get(id) ?? {} }] });
      }
      if (path === "/_security/api_key" && req.method === "DELETE")
        return reply(200, { invalidated_api_keys: record.body.ids, previously_invalidated_api_keys: [] });
      if (path === "/_security/user/_has_privileges")
        return reply(200, { has_all_requested: options.keyServes(), cluster: {}, index: {} });
      if (path.startsWith("/_index_template/")) return reply(200, { acknowledged: true });
      reply(404, { error: `unexpected ${req.method} ${path}` });
    });
  });
  return { server, requests, descriptors };
}

describe("the compose Elasticsearch setup step (deploy/setup/elasticsearch.mjs)", () => {
  let keyServes = true;
  const fake = fakeElasticsearch({ keyServes: () => keyServes });
  let server: Server;
  let url: string;
  // The script imports the compiled ingest from ../../dist; here dist/ is the source, which tsx runs.
  const tree = mkdtempSync(join(tmpdir(), "compose-es-setup-"));
  const keyFile = join(tree, "ingest.apikey");
  const liveKeyFile = join(tree, "live.apikey");
  const secrets = { ELASTIC_PASSWORD: "elastic-pw-9f3c1", KIBANA_SYSTEM_PASSWORD: "kibana-pw-7d2e4" };
  const run = () =>
    promisify(execFile)(
      process.execPath,
      ["--import", "tsx", join(tree, "deploy", "setup", "elasticsearch.mjs")],
      {
        cwd: root,
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          ELASTICSEARCH_URL: url,
          ...secrets,
          INGEST_API_KEY_FILE: keyFile,
          LIVE_API_KEY_FILE: liveKeyFile,
          INGEST_NAMESPACE: "default",
          INGEST_RETENTION: "30d",
        },
      },
    );
  const basic = `Basic ${Buffer.from(`elastic:${secrets.ELASTIC_PASSWORD}`).toString("base64")}`;

  before(async () => {
    mkdirSync(join(tree, "deploy", "setup"), { recursive: true });
    copyFileSync(
      join(deploy, "setup", "elasticsearch.mjs"),
      join(tree, "deploy", "setup", "elasticsearch.mjs"),
    );
    mkdirSync(join(tree, "dist"));
    symlinkSync(join(root, "ingest"), join(tree, "dist", "ingest"));
    symlinkSync(join(root, "node_modules"), join(tree, "node_modules"));
    server = fake.server.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it("sets kibana_system's password, the least-privilege roles, the templates and the ingest's key", async () => {
    const { stdout, stderr } = await run();
    const requests = fake.requests;
    const password = requests.find((r) => r.path === "/_security/user/kibana_system/_password");
    assert.equal(password?.body.password, secrets.KIBANA_SYSTEM_PASSWORD);

    const writer = requests.find((r) => r.path === "/_security/role/telemetry_writer")?.body as {
      cluster: string[];
      indices: { names: string[]; privileges: string[] }[];
    };
    // Only the action behind the ingest's /readyz, not `monitor` (every index name and mapping).
    assert.deepEqual(writer.cluster, ["cluster:monitor/health"]);
    assert.deepEqual(writer.indices.map((i) => i.names).flat(), [
      "metrics-telemetry.*",
      "logs-telemetry.deadletter-*",
    ]);
    for (const index of writer.indices)
      assert.deepEqual([...index.privileges].sort(), ["auto_configure", "create_doc"]);
    const templatesRole = requests.find((r) => r.path === "/_security/role/telemetry_templates")?.body;
    assert.deepEqual(templatesRole?.cluster, ["manage_index_templates"]);

    const created = requests.filter((r) => r.path === "/_security/api_key" && r.method !== "DELETE");
    assert.equal(created.length, 3);
    const [templatesKey, ingestKey] = created as [Recorded, Recorded, Recorded];
    assert.deepEqual(templatesKey.body.role_descriptors, {
      telemetry_templates: { cluster: ["manage_index_templates"], indices: [] },
    });
    assert.ok(templatesKey.body.expiration, "the templates key expires");
    const { metadata: _metadata, ...writerPrivileges } = writer as typeof writer & { metadata?: unknown };
    assert.deepEqual(
      (ingestKey.body.role_descriptors as Record<string, unknown>).telemetry_writer,
      writerPrivileges,
      "the ingest's key holds telemetry_writer's privileges only",
    );

    const templatePuts = requests.filter((r) => r.path.startsWith("/_index_template/"));
    const expected = buildIndexTemplates({ namespace: "default", retention: "30d" }).map((t) => t.name);
    assert.deepEqual(templatePuts.map((r) => r.path.split("/").pop()).sort(), expected.sort());
    for (const put of templatePuts) {
      assert.match(put.authorization, /^ApiKey /, "templates are installed with the templates key");
      assert.equal(Buffer.from(put.authorization.slice(7), "base64").toString().split(":")[0], "key-1");
    }
    const invalidated = requests.find((r) => r.path === "/_security/api_key" && r.method === "DELETE");
    assert.deepEqual(invalidated?.body.ids, ["key-1"], "the templates key is invalidated");
    for (const r of requests.filter(
      (x) => x.path.startsWith("/_security/") && !x.path.endsWith("_has_privileges"),
    ))
      assert.equal(r.authorization, basic, `${r.path} as elastic`);

    const key = readFileSync(keyFile, "utf8");
    assert.equal(Buffer.from(key, "base64").toString().split(":")[0], "key-2");
    assert.equal(statSync(keyFile).mode & 0o777, 0o400);
    const liveKey = readFileSync(liveKeyFile, "utf8");
    for (const secret of [...Object.values(secrets), key, liveKey])
      assert.ok(!(stdout + stderr).includes(secret), "no secret printed");
  });

  it("gives telemetry-live a key that may only read the metric data streams", () => {
    type Role = {
      cluster: string[];
      indices: { names: string[]; privileges: string[]; allow_restricted_indices?: boolean }[];
    };
    const reader = fake.requests.find((r) => r.path === "/_security/role/telemetry_reader")?.body as
      Role | undefined;
    assert.ok(reader, "the role telemetry_reader is put");
    // live/src/history/history.ts calls _search on metrics-telemetry.<metric>-<namespace>, nothing else.
    assert.deepEqual(reader.cluster, [], "no cluster privilege");
    assert.deepEqual(
      reader.indices.map((i) => [i.names, i.privileges, i.allow_restricted_indices]),
      [[["metrics-telemetry.*-*"], ["read"], false]],
      "read on the metric data streams only: no write, index, create, delete or dead letters",
    );
    const liveKey = fake.requests.find(
      (r) => r.path === "/_security/api_key" && r.method !== "DELETE" && r.body.name === "telemetry-live",
    );
    const { metadata: _metadata, ...readerPrivileges } = reader as Role & { metadata?: unknown };
    assert.deepEqual(liveKey?.body.role_descriptors, { telemetry_reader: readerPrivileges });
    const stored = readFileSync(liveKeyFile, "utf8");
    assert.equal(Buffer.from(stored, "base64").toString().split(":")[0], "key-3");
    assert.equal(statSync(liveKeyFile).mode & 0o777, 0o400);
    assert.notEqual(stored, readFileSync(keyFile, "utf8"), "a key of its own, not the ingest's");
  });

  it("keeps a working ingest key, and replaces (and invalidates) one that no longer serves", async () => {
    const first = readFileSync(keyFile, "utf8");
    fake.requests.length = 0;
    keyServes = true;
    await run();
    assert.equal(readFileSync(keyFile, "utf8"), first);
    const check = fake.requests.find((r) => r.path === "/_security/user/_has_privileges");
    assert.equal(check?.authorization, `ApiKey ${first}`, "the check runs as the stored key");

    fake.requests.length = 0;
    keyServes = false;
    await run();
    const replaced = readFileSync(keyFile, "utf8");
    assert.notEqual(replaced, first);
    const invalidations = fake.requests
      .filter((r) => r.path === "/_security/api_key" && r.method === "DELETE")
      .flatMap((r) => r.body.ids as string[]);
    assert.ok(invalidations.includes(Buffer.from(first, "base64").toString().split(":")[0]!));
  });

  it("replaces a stored key created with a broader role (cluster monitor), though it still authenticates", async () => {
    const stored = readFileSync(keyFile, "utf8");
    const id = Buffer.from(stored, "base64").toString().split(":")[0]!;
    fake.descriptors.set(id, {
      telemetry_writer: {
        cluster: ["monitor"],
        indices: [
          {
            names: ["metrics-telemetry.*", "logs-telemetry.deadletter-*"],
            privileges: ["create_doc", "auto_configure"],
          },
        ],
      },
    });
    fake.requests.length = 0;
    keyServes = true;
    await run();
    assert.notEqual(readFileSync(keyFile, "utf8"), stored, "the broader key was kept");
    const invalidated = fake.requests
      .filter((r) => r.path === "/_security/api_key" && r.method === "DELETE")
      .flatMap((r) => r.body.ids as string[]);
    assert.ok(invalidated.includes(id), "the broader key is invalidated");
  });

  it("replaces a stored telemetry-live key that may also write, and keeps the ingest's", async () => {
    const stored = readFileSync(liveKeyFile, "utf8");
    const ingestKey = readFileSync(keyFile, "utf8");
    const id = Buffer.from(stored, "base64").toString().split(":")[0]!;
    fake.descriptors.set(id, {
      telemetry_reader: {
        cluster: [],
        indices: [{ names: ["metrics-telemetry.*-*"], privileges: ["read", "write"] }],
      },
    });
    fake.requests.length = 0;
    keyServes = true;
    await run();
    assert.notEqual(readFileSync(liveKeyFile, "utf8"), stored, "the key that may write was kept");
    assert.equal(readFileSync(keyFile, "utf8"), ingestKey);
    const invalidated = fake.requests
      .filter((r) => r.path === "/_security/api_key" && r.method === "DELETE")
      .flatMap((r) => r.body.ids as string[]);
    assert.ok(invalidated.includes(id), "the key that may write is invalidated");
  });
});
