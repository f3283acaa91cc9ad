import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import mqtt from "mqtt";
import { startSecureBroker, uniqueName, type SecureBroker } from "@cluster-telemetry/dev-stack";
import { waitFor, type ProgramProcess } from "@cluster-telemetry/dev-stack";
import { spawnAgent } from "../../agent/agent-process.ts";
import { spawnLive, tokenFileIn, type LiveProcess } from "../live-process.ts";

const VIEWER = { name: "telemetry-viewer", password: "viewer-secret-1" };
const NODE = { name: "node-a", password: "node-secret-1" };
const BASIC = { name: "ops", password: "basic-secret-1" };

/** GET over HTTPS with the deployment's CA, as a browser that trusts it would. */
function httpsGet(
  url: string,
  ca: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { ca, headers }, (response) => {
      let body = "";
      response.on("data", (d: Buffer) => (body += d.toString()));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    })
      .on("error", reject)
      .end();
  });
}

describe("telemetry-live on the deployment's broker, with its read-only account, a token, basic auth and TLS", () => {
  let broker: SecureBroker;
  const dir = mkdtempSync(join(tmpdir(), "secure-live-"));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const processes: ProgramProcess[] = [];
  let live: LiveProcess;

  before(async () => {
    broker = await startSecureBroker([
      { name: "telemetry-ingest", password: "ingest-secret-1" },
      VIEWER,
      NODE,
    ]);
    const ca = join(broker.certsDir, "ca.crt");
    const agent = spawnAgent(
      ["--broker", broker.tlsUrl, "--host", NODE.name, "--username", NODE.name, "--interval", "1"],
      { MQTT_PASSWORD_FILE: file("node.pw", NODE.password), MQTT_CA_FILE: ca },
    );
    processes.push(agent);
    live = await spawnLive(
      [
        "--mqtt-url",
        broker.tlsUrl,
        "--mqtt-username",
        VIEWER.name,
        "--port",
        "0",
        "--auth-token-file",
        tokenFileIn(),
      ],
      { MQTT_PASSWORD_FILE: file("viewer.pw", VIEWER.password), MQTT_CA_FILE: ca },
    );
    processes.push(live);
  });

  after(async () => {
    for (const p of processes) p.child.kill("SIGKILL");
    await broker?.service.process.stop();
  });

  it("reads the fleet as telemetry-viewer over TLS", async () => {
    const auth = { authorization: `Bearer ${live.token}` };
    await waitFor("node-a's CPU on telemetry-live", async () => {
      const response = await fetch(`${live.url}api/hosts/${NODE.name}`, { headers: auth });
      if (!response.ok) return false;
      const host = (await response.json()) as { row: { v: (number | null)[]; s: string } };
      return host.row.s === "online" && host.row.v[0] !== null;
    });
  });

  it("may publish nothing with the viewer account", async () => {
    const viewer = await mqtt.connectAsync(broker.tlsUrl, {
      ca: readFileSync(join(broker.certsDir, "ca.crt")),
      username: VIEWER.name,
      password: VIEWER.password,
      clientId: uniqueName("viewer-"),
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    try {
      for (const topic of [`telemetry/v2/${NODE.name}/status`, `telemetry/v2/${VIEWER.name}/cpu`])
        await assert.rejects(viewer.publishAsync(topic, "from-viewer", { qos: 1 }), /Not authorized/i, topic);
    } finally {
      await viewer.endAsync();
    }
    // On the nodes' listener the client id is the user name: this connection took telemetry-live's
    // over, as a second telemetry-live on the same account would. It comes back by itself.
    await waitFor("telemetry-live connected again", async () =>
      /^telemetry_live_broker_connected 1$/m.test(
        await (
          await fetch(`${live.url}metrics`, { headers: { authorization: `Bearer ${live.token}` } })
        ).text(),
      ),
    );
  });

  it("answers only /healthz without the token, swaps the token for a strict cookie, and serves /metrics with it", async () => {
    assert.equal((await fetch(`${live.url}healthz`)).status, 200);
    for (const path of ["", "events", "metrics", `api/hosts/${NODE.name}`, "app.js"])
      assert.equal((await fetch(`${live.url}${path}`)).status, 401, `/${path} needs the token`);
    assert.equal((await fetch(`${live.url}?token=not-the-token`, { redirect: "manual" })).status, 401);
    const signIn = await fetch(live.signInUrl, { redirect: "manual" });
    assert.equal(signIn.status, 303);
    assert.equal(signIn.headers.get("location"), "/");
    const cookie = signIn.headers.get("set-cookie") ?? "";
    assert.match(cookie, /HttpOnly; SameSite=Strict; Path=\//);
    const page = await fetch(live.url, { headers: { cookie: cookie.split(";")[0]! } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script src="\/vendor\/uPlot\.iife\.min\.js"/);
    assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    const metrics = await (
      await fetch(`${live.url}metrics`, { headers: { authorization: `Bearer ${live.token}` } })
    ).text();
    assert.match(metrics, /^telemetry_live_messages_received_total [1-9]/m);
    assert.match(metrics, /^telemetry_live_hosts_known 1$/m);
    assert.match(metrics, /^telemetry_live_broker_connected 1$/m);
    const bearer = { authorization: `Bearer ${live.token}` };
    const bad = await fetch(`${live.url}api/hosts/%E0%A4%A`, { headers: bearer });
    assert.equal(bad.status, 400, "a malformed host name is a clear error, not a crash");
    const unknown = await fetch(`${live.url}api/hosts/nobody`, { headers: bearer });
    assert.deepEqual(await unknown.json(), { error: "no host named nobody" });
    assert.equal((await fetch(`${live.url}healthz`)).status, 200, "still running");
  });

  it("serves HTTPS with basic auth when given a certificate and a password file", async () => {
    const basic = await spawnLive(
      [
        ...["--mqtt-url", broker.tlsUrl, "--mqtt-username", VIEWER.name, "--port", "0"],
        ...[
          "--host",
          "localhost",
          "--auth-username",
          BASIC.name,
          "--auth-password-file",
          file("basic.pw", BASIC.password),
        ],
        ...[
          "--tls-cert-file",
          join(broker.certsDir, "broker.crt"),
          "--tls-key-file",
          join(broker.certsDir, "broker.key"),
        ],
      ],
      { MQTT_PASSWORD_FILE: join(dir, "viewer.pw"), MQTT_CA_FILE: join(broker.certsDir, "ca.crt") },
    );
    processes.push(basic);
    assert.match(basic.url, /^https:\/\/localhost:\d+\/$/);
    const ca = readFileSync(join(broker.certsDir, "ca.crt"));
    const without = await httpsGet(basic.url, ca);
    assert.equal(without.status, 401);
    const wrong = await httpsGet(basic.url, ca, {
      authorization: `Basic ${Buffer.from(`${BASIC.name}:nope`).toString("base64")}`,
    });
    assert.equal(wrong.status, 401);
    const right = await httpsGet(basic.url, ca, {
      authorization: `Basic ${Buffer.from(`${BASIC.name}:${BASIC.password}`).toString("base64")}`,
    });
    assert.equal(right.status, 200);
    assert.match(right.body, /Fleet live/);
  });

  it("never logs a password or the token", () => {
    for (const p of processes.slice(1))
      for (const secret of [VIEWER.password, BASIC.password, live.token])
        assert.ok(!p.output().includes(secret), "a secret in the log");
  });
});
