import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createAuthority, issue } from "../../deploy/certs/authority.ts";
import { freePort } from "@cluster-telemetry/dev-stack";
import { spawnProgram } from "@cluster-telemetry/dev-stack";
import { FakeKibana } from "./fake-kibana.ts";
import { SAVED_OBJECTS_FILE } from "./saved-objects.ts";

const ENTRY = "kibana/src/import.ts";

/** Runs `kibana:import` as a child process, the way `npm run kibana:import -- …` runs it. */
async function runImport(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; output: string }> {
  const program = spawnProgram(ENTRY, args, env);
  const code = await program.exited;
  return { code, output: program.output() };
}

describe("kibana:import against Kibana's HTTP API", () => {
  const fakes: FakeKibana[] = [];
  let dir: string;
  const start = async (options: Parameters<typeof FakeKibana.start>[0] = {}) => {
    const fake = await FakeKibana.start(options);
    fakes.push(fake);
    return fake;
  };
  const secretFile = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, `${content}\n`);
    return path;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "kibana-import-"));
  });
  after(async () => {
    for (const fake of fakes) await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("imports into a Kibana whose overall status stays degraded, as a working Kibana can", async () => {
    const kibana = await start({ level: "degraded" });
    const { code, output } = await runImport(["--kibana", kibana.url, "--timeout", "2s"]);
    assert.equal(code, 0, output);
    assert.equal(kibana.statusRequests().length, 1, "degraded is served at once");
    assert.equal(kibana.importRequests().length, 1);
  });

  it("waits while /api/status answers 503, then imports the NDJSON as a file with overwrite=true and kbn-xsrf", async () => {
    const kibana = await start({ notReady: [503, 503, 503] });
    const { code, output } = await runImport(["--kibana", kibana.url, "--timeout", "30s"]);
    assert.equal(code, 0, output);
    assert.equal(kibana.statusRequests().length, 4, "three refusals, then available");
    assert.match(output, /not ready yet \(status unavailable: Elasticsearch is not reachable\), retrying/);
    const [upload] = kibana.importRequests();
    assert.ok(upload, "an import request");
    assert.equal(upload.query.get("overwrite"), "true");
    assert.equal(upload.headers["kbn-xsrf"], "true");
    assert.match(upload.headers["content-type"] ?? "", /^multipart\/form-data; boundary=/);
    assert.equal(upload.file?.name, "cluster-telemetry.ndjson");
    assert.equal(upload.file?.text, readFileSync(SAVED_OBJECTS_FILE, "utf8"));
    assert.deepEqual([...kibana.stored.keys()].sort(), [
      "dashboard:cluster-telemetry",
      "index-pattern:cluster-telemetry-metrics",
    ]);
    assert.match(output, /imported 2 saved objects into Kibana 9\.5\.3/);
  });

  it("can run again: the second import replaces the objects instead of failing or adding copies", async () => {
    const kibana = await start();
    const first = await runImport(["--kibana", kibana.url]);
    const firstStored = [...kibana.stored.keys()];
    const second = await runImport(["--kibana", kibana.url]);
    assert.deepEqual([first.code, second.code], [0, 0], first.output + second.output);
    assert.equal(kibana.importRequests().length, 2);
    assert.deepEqual([...kibana.stored.keys()], firstStored);
    assert.equal(kibana.stored.size, 2);
  });

  it("lists every object Kibana could not import, with its reason, and exits 1", async () => {
    const kibana = await start({
      importErrors: [
        {
          type: "dashboard",
          id: "cluster-telemetry",
          title: "Cluster telemetry",
          error: {
            type: "missing_references",
            references: [{ type: "index-pattern", id: "cluster-telemetry-metrics" }],
          },
        },
        {
          type: "index-pattern",
          id: "cluster-telemetry-metrics",
          error: { type: "unknown", message: "boom" },
        },
      ],
    });
    const { code, output } = await runImport(["--kibana", kibana.url]);
    assert.equal(code, 1, output);
    assert.match(output, /Kibana did not import 2 of the saved objects/);
    assert.match(
      output,
      /- dashboard cluster-telemetry \("Cluster telemetry"\): missing_references: missing index-pattern cluster-telemetry-metrics/,
    );
    assert.match(output, /- index-pattern cluster-telemetry-metrics: unknown: boom/);
  });

  it("sends the user's password from a file as basic authentication, and never prints it", async () => {
    const password = "correct-horse-battery-9f3k";
    const token = Buffer.from(`importer:${password}`).toString("base64");
    const kibana = await start({ authorization: `Basic ${token}` });
    const args = ["--kibana", kibana.url, "--username", "importer", "--password-file"];

    const accepted = await runImport([...args, secretFile("good-password", password)]);
    assert.equal(accepted.code, 0, accepted.output);
    assert.equal(kibana.importRequests().length, 1);

    const refused = await runImport([...args, secretFile("bad-password", "wrong-password-77x")]);
    assert.equal(refused.code, 1);
    assert.match(refused.output, /Kibana refused the credentials \(401\) when asked for its status/);
    assert.equal(kibana.importRequests().length, 1, "no import after a refusal");

    for (const output of [accepted.output, refused.output]) {
      assert.ok(
        !output.includes(password) && !output.includes("wrong-password-77x"),
        "no password in output",
      );
      assert.ok(!output.includes(token), "no credentials header in output");
    }
  });

  it("takes an API key and credentials from the environment, sending ApiKey authorization", async () => {
    const kibana = await start({ authorization: "ApiKey a2V5LWlkOmtleS1zZWNyZXQ=" });
    const { code, output } = await runImport([], {
      KIBANA_URL: kibana.url,
      KIBANA_API_KEY: "a2V5LWlkOmtleS1zZWNyZXQ=",
    });
    assert.equal(code, 0, output);
    assert.ok(!output.includes("a2V5LWlkOmtleS1zZWNyZXQ="));
  });

  it("trusts Kibana's certificate when given the CA that signed it, and refuses it otherwise", async () => {
    const authority = await createAuthority("test kibana CA", 1);
    const tls = await issue(authority, {
      commonName: "kibana",
      altNames: ["127.0.0.1"],
      usage: "server",
      days: 1,
    });
    const kibana = await start({ tls });
    const caFile = secretFile("ca.pem", authority.certificate);
    const trusted = await runImport(["--kibana", kibana.url, "--ca-file", caFile]);
    assert.equal(trusted.code, 0, trusted.output);
    const untrusted = await runImport(["--kibana", kibana.url, "--timeout", "1s"]);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.output, /not available within 1s \(last: .*(certificate|CERT)/i);
  });

  it("gives up with one clear message when nothing listens before the timeout", async () => {
    const port = await freePort();
    const started = Date.now();
    const { code, output } = await runImport(["--kibana", `http://127.0.0.1:${port}`, "--timeout", "1500ms"]);
    assert.equal(code, 1);
    assert.match(
      output,
      new RegExp(
        `Kibana at http://127\\.0\\.0\\.1:${port} was not available within 1500ms \\(last: .*ECONNREFUSED`,
      ),
    );
    assert.ok(Date.now() - started < 15_000, "the timeout bounds the wait");
  });

  it("ends in seconds, not at the timeout, when every connection is refused", async () => {
    const port = await freePort();
    const { code, output } = await runImport(["--kibana", `http://127.0.0.1:${port}`, "--timeout", "120s"]);
    assert.equal(code, 1);
    assert.match(
      output,
      new RegExp(
        `nothing listens at http://127\\.0\\.0\\.1:${port} \\(connection refused for 5s\\): is Kibana running`,
      ),
    );
  });

  it("exits 2 on bad flags, naming each problem", async () => {
    const unknown = await runImport(["--kibana-url", "http://localhost:5601"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.output, /unknown option '--kibana-url'/);

    const bad = await runImport([
      "--kibana",
      "http://admin:hunter2@localhost:5601",
      "--timeout",
      "soon",
      "--password-file",
      join(dir, "missing"),
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.output, /must not hold credentials/);
    assert.match(bad.output, /--timeout: must be a duration such as 10s, 500ms or 7d .*\(got soon\)/);
    assert.match(bad.output, /--password-file: cannot read .*missing \(ENOENT\)/);
    assert.ok(!bad.output.includes("hunter2"));
  });
});
