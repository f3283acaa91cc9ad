// One-shot Elasticsearch setup of deploy/docker-compose.yml (the `setup` service), run in the
// repository's image as the bundle `npm run build` makes of it (deploy/dist/setup-elasticsearch.js). Idempotent: every `docker compose up` runs it again.
//
//   1. kibana_system gets KIBANA_SYSTEM_PASSWORD, so Kibana can start;
//   2. the roles: telemetry_writer (what the ingest may do), telemetry_reader (what telemetry-live
//      may do) and telemetry_templates (what installing the index templates needs), for operators
//      who create their own users or keys from them;
//   3. the index templates, through an API key that may manage templates and nothing else, expiring
//      in minutes and invalidated at the end: the superuser never writes them itself;
//   4. the ingest's API key (telemetry_writer's privileges only) and telemetry-live's (telemetry_reader:
//      read the metric data streams, nothing else), each kept across runs while it still works and
//      holds exactly its role's privileges, replaced otherwise.
//
// It reuses the ingest's own template installer (telemetry-ingest/templates, inlined in the bundle),
// so the templates are the ones the ingest was built with.
/* global Buffer, process */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Client, errors } from "@elastic/elasticsearch";
import { installTemplates } from "telemetry-ingest/templates";

/**
 * What the ingest calls, and nothing more: _bulk creates into its data streams (the first document
 * creates the stream), and _cluster/health for its /readyz. The cluster privilege is that one
 * action, not `monitor`, which would also show every index name, mapping and setting.
 */
const WRITER_ROLE = {
  cluster: ["cluster:monitor/health"],
  indices: [
    {
      names: ["metrics-telemetry.*", "logs-telemetry.deadletter-*"],
      privileges: ["create_doc", "auto_configure"],
      allow_restricted_indices: false,
    },
  ],
};

/**
 * What telemetry-live calls, and nothing more: one _search per metric on
 * metrics-telemetry.<metric>-<namespace> for its history (live/src/history/history.ts). No cluster
 * privilege (it calls no cluster API), no write, no dead letters.
 */
const READER_ROLE = {
  cluster: [],
  indices: [
    {
      names: ["metrics-telemetry.*-*"],
      privileges: ["read"],
      allow_restricted_indices: false,
    },
  ],
};

const TEMPLATES_ROLE = { cluster: ["manage_index_templates"], indices: [] };

/** The stored API keys: whose, where (the env variable naming the file) and with which role. */
const KEYS = [
  {
    who: "the ingest",
    name: "telemetry-ingest",
    fileVariable: "INGEST_API_KEY_FILE",
    roleName: "telemetry_writer",
    role: WRITER_ROLE,
  },
  {
    who: "telemetry-live",
    name: "telemetry-live",
    fileVariable: "LIVE_API_KEY_FILE",
    roleName: "telemetry_reader",
    role: READER_ROLE,
  },
];

function required(env, name) {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function say(message) {
  process.stdout.write(`setup: ${message}\n`);
}

/** Elasticsearch may still be electing itself master or recovering the security index. */
async function waitForCluster(client, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const health = await client.cluster.health({ wait_for_status: "yellow", timeout: "10s" });
      if (health.status !== "red") return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error("Elasticsearch did not become ready in time");
    await sleep(2000);
  }
}

const sorted = (values) => [...(values ?? [])].sort();

/** True when a key's role descriptor grants exactly `role`'s privileges, no more. */
function grantsExactly(descriptor, role) {
  const indices = (descriptor?.indices ?? []).map((i) => ({
    names: sorted(i.names),
    privileges: sorted(i.privileges),
  }));
  const wanted = role.indices.map((i) => ({
    names: sorted(i.names),
    privileges: sorted(i.privileges),
  }));
  return (
    JSON.stringify(sorted(descriptor?.cluster)) === JSON.stringify(sorted(role.cluster)) &&
    JSON.stringify(indices) === JSON.stringify(wanted)
  );
}

/**
 * True when the key authenticates, holds every privilege of `role`, and was created with exactly
 * those: a key from an earlier, broader role is replaced.
 */
async function keyStillServes(elastic, options, encoded, role) {
  const client = new Client({ ...options, auth: { apiKey: encoded } });
  try {
    const answer = await client.security.hasPrivileges({
      cluster: role.cluster,
      index: role.indices.map(({ names, privileges }) => ({ names, privileges })),
    });
    if (!answer.has_all_requested) return false;
  } catch (error) {
    if (error instanceof errors.ResponseError && error.statusCode === 401) return false;
    throw error;
  } finally {
    await client.close();
  }
  const { api_keys: keys } = await elastic.security.getApiKey({ id: keyId(encoded) });
  const descriptors = Object.values(keys?.[0]?.role_descriptors ?? {});
  return descriptors.length === 1 && grantsExactly(descriptors[0], role);
}

/** The id half of an encoded key (base64 of "id:secret"); nothing else of it is ever shown. */
function keyId(encoded) {
  return Buffer.from(encoded, "base64").toString("utf8").split(":")[0];
}

function writeSecret(path, value) {
  const next = `${path}.next`;
  writeFileSync(next, value, { mode: 0o400 });
  renameSync(next, path);
}

/** Keeps the stored key of `key.who` while it serves; otherwise creates one and retires the old. */
async function ensureKey(elastic, options, env, key) {
  const keyFile = required(env, key.fileVariable);
  const existing = existsSync(keyFile) ? readFileSync(keyFile, "utf8").trim() : "";
  if (existing && (await keyStillServes(elastic, options, existing, key.role))) {
    say(`kept ${key.who}'s API key ${keyId(existing)}`);
    return;
  }
  const created = await elastic.security.createApiKey({
    name: key.name,
    role_descriptors: { [key.roleName]: key.role },
    metadata: { application: "cluster-telemetry" },
  });
  writeSecret(keyFile, created.encoded);
  say(`created ${key.who}'s API key ${created.id}`);
  if (existing) {
    // The old key no longer serves (privileges changed, or it was expired or revoked): retire it.
    await elastic.security.invalidateApiKey({ ids: [keyId(existing)] }).catch(() => undefined);
    say(`invalidated ${key.who}'s previous key ${keyId(existing)}`);
  }
}

async function setupElasticsearch(env) {
  const options = {
    node: required(env, "ELASTICSEARCH_URL"),
    requestTimeout: 30_000,
    ...(env.ELASTICSEARCH_CA_FILE ? { tls: { ca: readFileSync(env.ELASTICSEARCH_CA_FILE) } } : {}),
  };
  const elastic = new Client({
    ...options,
    auth: { username: "elastic", password: required(env, "ELASTIC_PASSWORD") },
  });
  try {
    await waitForCluster(elastic, Number(env.SETUP_TIMEOUT_MS ?? 300_000));

    await elastic.security.changePassword({
      username: "kibana_system",
      password: required(env, "KIBANA_SYSTEM_PASSWORD"),
    });
    say("kibana_system password set");

    await elastic.security.putRole({
      name: "telemetry_writer",
      ...WRITER_ROLE,
      metadata: { purpose: "cluster-telemetry ingest: append telemetry documents" },
    });
    await elastic.security.putRole({
      name: "telemetry_reader",
      ...READER_ROLE,
      metadata: { purpose: "cluster-telemetry live view: read the metric data streams" },
    });
    await elastic.security.putRole({
      name: "telemetry_templates",
      ...TEMPLATES_ROLE,
      metadata: { purpose: "cluster-telemetry setup: install the index templates" },
    });
    say("roles telemetry_writer, telemetry_reader and telemetry_templates in place");

    const templatesKey = await elastic.security.createApiKey({
      name: "telemetry-setup-templates",
      expiration: "10m",
      role_descriptors: { telemetry_templates: TEMPLATES_ROLE },
    });
    const templates = new Client({ ...options, auth: { apiKey: templatesKey.encoded } });
    try {
      const log = {
        info: (_fields, message) => say(message),
        warn: (_fields, message) => say(message),
      };
      await installTemplates(
        templates,
        { namespace: env.INGEST_NAMESPACE || "default", retention: env.INGEST_RETENTION || undefined },
        log,
      );
    } finally {
      await templates.close();
      await elastic.security.invalidateApiKey({ ids: [templatesKey.id] });
    }

    for (const key of KEYS) await ensureKey(elastic, options, env, key);
  } finally {
    await elastic.close();
  }
}

try {
  await setupElasticsearch(process.env);
  say("Elasticsearch setup done");
} catch (error) {
  // Response bodies can echo request fields; the message and status are enough to act on.
  const status = error instanceof errors.ResponseError ? ` (HTTP ${error.statusCode})` : "";
  process.stderr.write(`setup: Elasticsearch setup failed${status}: ${error.message}\n`);
  process.exitCode = 1;
}
