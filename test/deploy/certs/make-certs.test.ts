import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { makeCerts, parseCertsArgs } from "../../../deploy/certs/make-certs.ts";
import { spawnProgram } from "@cluster-telemetry/dev-stack";

const cert = (dir: string, name: string) => new X509Certificate(readFileSync(join(dir, `${name}.crt`)));
const mode = (dir: string, file: string) => statSync(join(dir, file)).mode & 0o777;

describe("npm run certs", () => {
  it("creates a CA, a broker certificate with the given names, and client certificates that chain to it", async () => {
    const out = mkdtempSync(join(tmpdir(), "certs-"));
    await makeCerts(
      parseCertsArgs(["--out", out, "--hosts", "mqtt.example.org,10.0.0.5", "--clients", "rpi-1,ingest"]),
    );
    const ca = cert(out, "ca");
    assert.ok(ca.ca, "ca.crt is a CA certificate");
    const broker = cert(out, "broker");
    assert.ok(broker.verify(ca.publicKey), "the broker certificate is signed by the CA");
    assert.match(broker.subjectAltName ?? "", /DNS:mqtt\.example\.org/);
    assert.match(broker.subjectAltName ?? "", /IP Address:10\.0\.0\.5/);
    assert.equal(broker.checkHost("mqtt.example.org"), "mqtt.example.org");
    assert.equal(broker.checkIP("10.0.0.5"), "10.0.0.5");
    for (const node of ["rpi-1", "ingest"]) {
      const client = cert(out, node);
      assert.ok(client.verify(ca.publicKey));
      assert.equal(client.subject, `CN=${node}`, "the common name is the MQTT user name");
      assert.ok(client.keyUsage?.includes("1.3.6.1.5.5.7.3.2"), "usable for client authentication");
      assert.ok(!client.ca);
    }
  });

  it("makes private keys readable by their owner only and certificates readable by all", async () => {
    const out = mkdtempSync(join(tmpdir(), "certs-"));
    await makeCerts(parseCertsArgs(["--out", out, "--clients", "rpi-1"]));
    for (const name of ["ca", "broker", "rpi-1"]) {
      assert.equal(mode(out, `${name}.key`), 0o600, `${name}.key`);
      assert.equal(mode(out, `${name}.crt`), 0o644, `${name}.crt`);
    }
  });

  it("keeps what exists on a second run, and --force re-issues only what is named, under the same CA", async () => {
    const out = mkdtempSync(join(tmpdir(), "certs-"));
    await makeCerts(parseCertsArgs(["--out", out, "--clients", "rpi-1,rpi-2"]));
    const before = {
      ca: cert(out, "ca"),
      broker: cert(out, "broker"),
      one: cert(out, "rpi-1"),
      two: cert(out, "rpi-2"),
    };

    const again = await makeCerts(parseCertsArgs(["--out", out, "--clients", "rpi-1,rpi-2"]));
    assert.deepEqual(again.written, []);
    assert.equal(cert(out, "rpi-1").fingerprint256, before.one.fingerprint256);

    await makeCerts(parseCertsArgs(["--out", out, "--clients", "rpi-1", "--force"]));
    assert.equal(cert(out, "ca").fingerprint256, before.ca.fingerprint256, "the CA is never replaced");
    assert.notEqual(cert(out, "rpi-1").fingerprint256, before.one.fingerprint256, "rpi-1 was rotated");
    assert.equal(cert(out, "rpi-2").fingerprint256, before.two.fingerprint256, "rpi-2 was left alone");
    assert.ok(cert(out, "rpi-1").verify(before.ca.publicKey));
  });

  it("says when a kept broker certificate has other names than --hosts asks for, and how to re-issue it", async () => {
    const out = mkdtempSync(join(tmpdir(), "certs-"));
    await makeCerts(parseCertsArgs(["--out", out, "--hosts", "old.example.org"]));
    const run = spawnProgram("deploy/certs/make-certs.ts", ["--out", out, "--hosts", "new.example.org"]);
    assert.equal(await run.exited, 0);
    assert.match(
      run.output(),
      /broker\.crt is kept with the names old\.example\.org, not new\.example\.org: re-issue it with --force \(npm run certs -- --out \S+ --hosts new\.example\.org --force\)/,
    );
    const rerun = spawnProgram("deploy/certs/make-certs.ts", [
      "--out",
      out,
      "--hosts",
      "new.example.org",
      "--force",
    ]);
    assert.equal(await rerun.exited, 0);
    assert.match(cert(out, "broker").subjectAltName ?? "", /DNS:new\.example\.org/);
    // Without --hosts nothing is compared: the compose setup's re-runs stay quiet.
    const quiet = await makeCerts(parseCertsArgs(["--out", out]));
    assert.deepEqual(quiet.differing, []);
  });

  it("issues extra server certificates for the deployment's other TLS servers", async () => {
    const out = mkdtempSync(join(tmpdir(), "certs-"));
    await makeCerts(parseCertsArgs(["--out", out, "--server", "elasticsearch=elasticsearch,localhost"]));
    assert.equal(cert(out, "elasticsearch").checkHost("elasticsearch"), "elasticsearch");
  });

  it("exits 2 with a clear message for a name that cannot be an MQTT user, and writes nothing", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "certs-")), "never");
    const run = spawnProgram("deploy/certs/make-certs.ts", ["--out", out, "--clients", "node/7"]);
    assert.equal(await run.exited, 2);
    assert.match(run.output(), /"node\/7" is not a usable name/);
    assert.throws(() => statSync(out));
  });

  it("exits 2 for a node named like one of the deployment's service accounts, and writes nothing", async () => {
    for (const name of ["telemetry-ingest", "telemetry-ingest-1", "healthcheck"]) {
      const out = join(mkdtempSync(join(tmpdir(), "certs-")), "never");
      const run = spawnProgram("deploy/certs/make-certs.ts", ["--out", out, "--clients", `rpi-1,${name}`]);
      assert.equal(await run.exited, 2, name);
      assert.match(
        run.output(),
        new RegExp(`"${name}" cannot be a node's name: it is kept for the deployment's services`),
      );
      assert.throws(() => statSync(out));
    }
  });
});
