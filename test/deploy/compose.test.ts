import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { before, describe, it } from "node:test";
import { envsOf } from "@cluster-telemetry/contract/config";
import { ensureDebianBinary, which } from "@cluster-telemetry/dev-stack";
import { INGEST_OPTIONS } from "../../ingest/src/config/ingest-options.ts";
import { LIVE_OPTIONS } from "../../live/src/config/live-options.ts";
import {
  BASE,
  ENV_EXAMPLE,
  GIB,
  SCALE,
  bytes,
  composeConfig,
  published,
  resolved,
  root,
  type Compose,
  type Service,
} from "./compose-file.ts";

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
    const known = new Set(Object.values(LIVE_OPTIONS).flatMap((spec) => envsOf(spec)));
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
    const known = new Set(Object.values(INGEST_OPTIONS).flatMap((spec) => envsOf(spec)));
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
