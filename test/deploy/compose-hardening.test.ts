import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import { ensureDebianBinary } from "@cluster-telemetry/dev-stack";
import { BASE, SCALE, resolved, type Compose, type Service } from "./compose-file.ts";

const SECRETS = ["ELASTIC_PASSWORD", "KIBANA_SYSTEM_PASSWORD", "KIBANA_ENCRYPTION_KEY", "REDIS_PASSWORD"];

const networksOf = (service: Service): string[] =>
  Array.isArray(service.networks) ? service.networks : Object.keys(service.networks ?? { default: {} });

const healthTest = (service: Service): string => {
  const test = service.healthcheck?.test ?? [];
  return Array.isArray(test) ? test.join(" ") : test;
};

/** Every service `name` waits for, directly or through the services it waits for. */
function waitsFor(compose: Compose, name: string, seen = new Set<string>()): Set<string> {
  const dependsOn = compose.services[name]?.depends_on ?? {};
  for (const dependency of Array.isArray(dependsOn) ? dependsOn : Object.keys(dependsOn)) {
    if (seen.has(dependency)) continue;
    seen.add(dependency);
    waitsFor(compose, dependency, seen);
  }
  return seen;
}

describe("deploy/docker-compose.yml, hardened", () => {
  let base: Compose;
  let scaled: Compose;

  before(() => {
    ensureDebianBinary("docker-compose", "docker-compose");
    base = resolved([BASE]);
    scaled = resolved([BASE, SCALE]);
  });

  it("probes Elasticsearch's health without credentials, so a changed ELASTIC_PASSWORD cannot keep it unhealthy", () => {
    const probe = healthTest(base.services.elasticsearch!);
    for (const secret of SECRETS) assert.ok(!probe.includes(secret), `the probe uses ${secret}`);
    assert.doesNotMatch(probe, /\s(-u|--user)\s/, "the probe logs in");
    // An anonymous request answered with Elasticsearch's own 401 text: HTTPS and security are up.
    assert.match(probe, /--cacert \S+ https:\/\/localhost:9200/);
    assert.match(probe, /grep -q 'missing authentication credentials'/);
  });

  it("checks the secrets in the first step, before any service that uses them starts", () => {
    const certs = base.services.certs!.environment ?? {};
    for (const secret of SECRETS) assert.ok(certs[secret], `the certs step receives ${secret}`);
    const text = readFileSync(BASE, "utf8");
    // The file's text, not the resolved values: a secret can hide inside another value (REDIS_URL).
    const users = Object.keys(base.services).filter(
      (name) =>
        name !== "certs" &&
        SECRETS.some((secret) =>
          new RegExp(`\\n  ${name}:\\n(?:(?!\\n  \\S).)*\\$\\{${secret}`, "s").test(text),
        ),
    );
    assert.deepEqual(users.sort(), ["dashboards", "elasticsearch", "ingest", "kibana", "redis", "setup"]);
    for (const name of users)
      assert.ok(
        waitsFor(base, name).has("certs"),
        `${name} uses a secret and may start before it is checked`,
      );
  });

  it("runs Redis on a 7.4 release with the Lua scripting fixes (7.4.6 or later)", () => {
    const tag = /^redis:(\d+)\.(\d+)\.(\d+)-alpine$/.exec(base.services.redis!.image ?? "");
    assert.ok(tag, `redis is pinned to a patch release: ${base.services.redis!.image}`);
    const [major, minor, patch] = tag.slice(1).map(Number) as [number, number, number];
    assert.deepEqual([major, minor], [7, 4], "the 7.4 line BullMQ is tested on");
    assert.ok(patch >= 6, `7.4.${patch} predates the fixes of CVE-2025-49844 and the other Lua CVEs`);
  });

  it("puts the broker on a network only the ingest instances, telemetry-live and the demo agent join", () => {
    for (const compose of [base, scaled]) {
      assert.deepEqual(networksOf(compose.services.mosquitto!), ["mqtt"]);
      const onBrokerNetwork = Object.entries(compose.services)
        .filter(([name, service]) => name !== "mosquitto" && networksOf(service).includes("mqtt"))
        .map(([name]) => name);
      assert.deepEqual(
        onBrokerNetwork.filter(
          (name) => !/^ingest(-\d+)?$/.test(name) && !["live", "demo-agent"].includes(name),
        ),
        [],
      );
      assert.ok(onBrokerNetwork.includes("ingest"));
    }
  });
});
