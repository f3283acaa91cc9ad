import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { buildIndexTemplates } from "../../ingest/src/setup/index-templates.ts";
import { deploy, root } from "./compose-file.ts";
import { fakeElasticsearch, type Recorded } from "./fake-elasticsearch.ts";

describe("the compose Elasticsearch setup step (deploy/setup/elasticsearch.mjs)", () => {
  let keyServes = true;
  const fake = fakeElasticsearch({ keyServes: () => keyServes });
  let server: Server;
  let url: string;
  // The checkout's script through tsx: telemetry-ingest/templates is the ingest's TypeScript source
  // here, inlined into the bundle the image runs (npm run build).
  const tree = mkdtempSync(join(tmpdir(), "compose-es-setup-"));
  const keyFile = join(tree, "ingest.apikey");
  const liveKeyFile = join(tree, "live.apikey");
  const secrets = { ELASTIC_PASSWORD: "elastic-pw-9f3c1", KIBANA_SYSTEM_PASSWORD: "kibana-pw-7d2e4" };
  const run = () =>
    promisify(execFile)(process.execPath, ["--import", "tsx", join(deploy, "setup", "elasticsearch.mjs")], {
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
    });
  const basic = `Basic ${Buffer.from(`elastic:${secrets.ELASTIC_PASSWORD}`).toString("base64")}`;

  before(async () => {
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
