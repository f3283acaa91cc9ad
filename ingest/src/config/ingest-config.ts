import { VERSION } from "../version.ts";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { Command } from "commander";
import { z } from "zod";
import {
  ConfigError,
  ConfigExit,
  parseFlags,
  withoutLeadingDashes,
} from "@cluster-telemetry/contract/config";

export { ConfigError, ConfigExit };

/**
 * The ingest's one configuration object, built once at start from flags, then environment
 * variables, then an optional JSON file. Nothing else reads process.env.
 */
export interface IngestConfig {
  mqtt: {
    url: string;
    /** Stable per instance: the broker keeps this session's messages while the ingest is down. */
    clientId: string;
    version: 4 | 5;
    /** Shared-subscription group; several instances in one group split the load. */
    shareGroup: string | undefined;
    username: string | undefined;
    password: string | undefined;
    caFile: string | undefined;
    certFile: string | undefined;
    keyFile: string | undefined;
  };
  redis: { url: string; /** Prefix of every key this instance writes. */ prefix: string };
  elasticsearch: {
    url: string;
    apiKey: string | undefined;
    caFile: string | undefined;
    fingerprint: string | undefined;
    /** Per-request timeout in ms; a hung cluster must not hang a worker. @defaultValue 30000 */
    requestTimeoutMs: number;
  };
  /** Data stream namespace. @defaultValue "default" */
  namespace: string;
  /** Documents per bulk request. @defaultValue 1000 */
  batchSize: number;
  /** Longest a message waits in staging before it is batched, in ms. @defaultValue 1000 */
  flushIntervalMs: number;
  /**
   * How long the intake gathers messages before one Redis write and their PUBACKs, in ms; 0 writes
   * as soon as the messages already read are in. @defaultValue 5
   */
  stageLingerMs: number;
  /** Parallel bulk requests per instance. @defaultValue 2 */
  concurrency: number;
  /** Queued documents above which the intake pauses, and below which it resumes. */
  highWater: number;
  lowWater: number;
  /** Data stream lifecycle retention, e.g. "30d". */
  retention: string | undefined;
  /**
   * Install the index templates at start. Off where a setup step installs them, so that the ingest's
   * own credentials need no template privileges (least privilege).
   */
  installTemplates: boolean;
  /** Port of /healthz, /readyz and /metrics; 0 picks a free one. @defaultValue 9464 */
  httpPort: number;
  logLevel: string;
}

const FILE_KEYS = [
  "mqttUrl",
  "mqttClientId",
  "mqttVersion",
  "shareGroup",
  "mqttUsername",
  "mqttPasswordFile",
  "mqttCaFile",
  "mqttCertFile",
  "mqttKeyFile",
  "redisUrl",
  "redisPrefix",
  "elasticsearchUrl",
  "elasticsearchApiKeyFile",
  "elasticsearchCaFile",
  "elasticsearchFingerprint",
  "requestTimeout",
  "namespace",
  "batchSize",
  "flushInterval",
  "stageLinger",
  "concurrency",
  "highWater",
  "lowWater",
  "retention",
  "installTemplates",
  "httpPort",
  "logLevel",
] as const;
type Key = (typeof FILE_KEYS)[number];

const ENV: Record<Key, string> = {
  mqttUrl: "MQTT_URL",
  mqttClientId: "MQTT_CLIENT_ID",
  mqttVersion: "MQTT_VERSION",
  shareGroup: "INGEST_SHARE_GROUP",
  mqttUsername: "MQTT_USERNAME",
  mqttPasswordFile: "MQTT_PASSWORD_FILE",
  mqttCaFile: "MQTT_CA_FILE",
  mqttCertFile: "MQTT_CERT_FILE",
  mqttKeyFile: "MQTT_KEY_FILE",
  redisUrl: "REDIS_URL",
  redisPrefix: "INGEST_REDIS_PREFIX",
  elasticsearchUrl: "ELASTICSEARCH_URL",
  elasticsearchApiKeyFile: "ELASTICSEARCH_API_KEY_FILE",
  elasticsearchCaFile: "ELASTICSEARCH_CA_FILE",
  elasticsearchFingerprint: "ELASTICSEARCH_CA_FINGERPRINT",
  requestTimeout: "INGEST_REQUEST_TIMEOUT",
  namespace: "INGEST_NAMESPACE",
  batchSize: "INGEST_BATCH_SIZE",
  flushInterval: "INGEST_FLUSH_INTERVAL",
  stageLinger: "INGEST_STAGE_LINGER",
  concurrency: "INGEST_CONCURRENCY",
  highWater: "INGEST_HIGH_WATER",
  lowWater: "INGEST_LOW_WATER",
  retention: "INGEST_RETENTION",
  installTemplates: "INGEST_INSTALL_TEMPLATES",
  httpPort: "INGEST_HTTP_PORT",
  logLevel: "LOG_LEVEL",
};

const DEFAULTS: Partial<Record<Key, string | number>> = {
  mqttUrl: "mqtt://localhost:1883",
  mqttVersion: 5,
  redisUrl: "redis://localhost:6379",
  elasticsearchUrl: "http://localhost:9200",
  namespace: "default",
  batchSize: 1000,
  flushInterval: 1000,
  stageLinger: 5,
  concurrency: 2,
  highWater: 100_000,
  lowWater: 50_000,
  requestTimeout: 30_000,
  httpPort: 9464,
  logLevel: "info",
  installTemplates: "true",
};

/** One line per option in --help; the README's configuration table says the same at more length. */
const HELP: Record<Key, string> = {
  mqttUrl: "broker URL; mqtts:// for TLS",
  mqttClientId: "stable per instance: names the persistent session",
  mqttVersion: "4 (3.1.1) or 5",
  shareGroup: "subscribe as $share/<group>/… so instances split the load",
  mqttUsername: "MQTT user name",
  mqttPasswordFile: "file holding the MQTT password (or env MQTT_PASSWORD)",
  mqttCaFile: "CA certificate for mqtts://",
  mqttCertFile: "client certificate for mutual TLS",
  mqttKeyFile: "client key for mutual TLS",
  redisUrl: "Redis with AOF and noeviction",
  redisPrefix: "prefix of staging keys and the queue name",
  elasticsearchUrl: "Elasticsearch URL",
  elasticsearchApiKeyFile: "file holding the API key (or env ELASTICSEARCH_API_KEY)",
  elasticsearchCaFile: "CA certificate for https://",
  elasticsearchFingerprint: "CA fingerprint for https://, instead of a CA file",
  requestTimeout: "ms per Elasticsearch request",
  namespace: "data stream namespace",
  batchSize: "documents per bulk request",
  flushInterval: "ms a message waits at most before batching",
  stageLinger: "ms the intake gathers messages into one Redis write (0-100)",
  concurrency: "parallel bulk requests",
  highWater: "queued documents at which the intake pauses",
  lowWater: "queued documents at which it resumes",
  retention: "data stream retention: a number and d, h, m or s, e.g. 30d",
  installTemplates: "install the index templates at start (true or false)",
  httpPort: "port of /healthz, /readyz and /metrics; 0 picks a free one",
  logLevel: "fatal, error, warn, info, debug, trace or silent",
};

const flagName = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const int = (what: string, min: number) =>
  z.coerce
    .number({ invalid_type_error: `${what} must be a number` })
    .int(`${what} must be a whole number`)
    .min(min, `${what} must be at least ${min}`);
const url = (what: string, schemes: RegExp) =>
  z
    .string()
    .url(`${what} must be a URL`)
    .refine((u) => schemes.test(u), `${what} has an unsupported scheme`);

const Resolved = z
  .object({
    mqttUrl: url("MQTT url", /^(mqtts?|wss?):\/\//),
    mqttVersion: z.coerce.number().refine((v) => v === 4 || v === 5, "mqtt version must be 4 (3.1.1) or 5"),
    redisUrl: url("Redis url", /^rediss?:\/\//),
    elasticsearchUrl: url("Elasticsearch url", /^https?:\/\//),
    namespace: z.string().regex(/^[a-z0-9][a-z0-9_]*$/, "namespace must be lower-case letters, digits and _"),
    batchSize: int("batch size", 1).max(50_000, "batch size must be at most 50000"),
    flushInterval: z.coerce
      .number({ invalid_type_error: "flush interval must be a number of ms" })
      .min(10, "flush interval must be at least 10 ms"),
    stageLinger: int("stage linger", 0).max(100, "stage linger must be at most 100 ms"),
    concurrency: int("concurrency", 1),
    highWater: int("high water", 1),
    lowWater: int("low water", 0),
    requestTimeout: int("request timeout", 100),
    httpPort: int("http port", 0).max(65_535),
    shareGroup: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, "share group must be letters, digits, _ and -")
      .optional(),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
    // Elasticsearch's time units; "forever" or "30 days" would pass here and fail at the cluster.
    retention: z
      .string()
      .regex(/^[1-9]\d*(d|h|m|s)$/, "retention must be a whole number and d, h, m or s, e.g. 30d")
      .optional(),
    installTemplates: z
      .union([z.boolean(), z.string()])
      .refine(
        (v) => typeof v === "boolean" || v === "true" || v === "false",
        "install templates must be true or false",
      )
      .transform((v) => v === true || v === "true"),
  })
  .refine((c) => c.lowWater < c.highWater, {
    message: "low water must be below high water",
    path: ["lowWater"],
  });

export function loadIngestConfig(argv: string[], env: NodeJS.ProcessEnv): IngestConfig {
  const program = new Command("telemetry-ingest")
    .description("MQTT → Redis → Elasticsearch for cluster telemetry.")
    .version(VERSION)
    .option("--config <path>", "JSON config file (env TELEMETRY_INGEST_CONFIG; default: none)");
  for (const key of FILE_KEYS) {
    const fallback = key === "mqttClientId" ? "telemetry-ingest-<hostname>" : (DEFAULTS[key] ?? "none");
    program.option(`--${flagName(key)} <value>`, `${HELP[key]} (env ${ENV[key]}; default: ${fallback})`);
  }

  const flags = parseFlags<Record<string, string | undefined>>(program, argv);
  const problems: string[] = [];
  let file: Partial<Record<Key, string | number>> = {};
  const configPath = flags.config ?? env.TELEMETRY_INGEST_CONFIG;
  if (configPath) {
    try {
      const raw = JSON.parse(readFileSync(configPath, "utf8")) as Record<string, unknown>;
      const unknown = Object.keys(raw).filter((k) => !(FILE_KEYS as readonly string[]).includes(k));
      if (unknown.length > 0) problems.push(`config file ${configPath}: unknown keys ${unknown.join(", ")}`);
      file = raw as typeof file;
    } catch (error) {
      problems.push(`config file ${configPath}: ${(error as Error).message}`);
    }
  }
  const value = (key: Key): string | number | undefined => flags[key] ?? env[ENV[key]] ?? file[key];
  const candidate = Object.fromEntries(FILE_KEYS.map((k) => [k, value(k) ?? DEFAULTS[k]]));
  const resolved = Resolved.safeParse(candidate);
  if (!resolved.success) {
    problems.push(
      ...resolved.error.issues.map((i) =>
        i.path.length && !i.message.includes(String(i.path[0]).slice(0, 4))
          ? `${i.path.join(".")}: ${i.message}`
          : i.message,
      ),
    );
  }
  const secret = (key: Key, what: string): string | undefined => {
    const path = value(key);
    if (path === undefined) return undefined;
    try {
      return readFileSync(String(path), "utf8").trim();
    } catch (error) {
      problems.push(
        `${what} ${String(path)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
      return undefined;
    }
  };
  const mqttPassword = secret("mqttPasswordFile", "MQTT password file") ?? env.MQTT_PASSWORD;
  const apiKey = secret("elasticsearchApiKeyFile", "Elasticsearch API key file") ?? env.ELASTICSEARCH_API_KEY;
  for (const [key, what] of [
    ["mqttCaFile", "MQTT CA file"],
    ["mqttCertFile", "MQTT cert file"],
    ["mqttKeyFile", "MQTT key file"],
    ["elasticsearchCaFile", "Elasticsearch CA file"],
  ] as const) {
    secret(key, what);
  }
  if (problems.length > 0 || !resolved.success) throw new ConfigError(problems);
  const c = resolved.data;
  const optional = (key: Key) => (value(key) === undefined ? undefined : String(value(key)));
  return {
    mqtt: {
      url: c.mqttUrl,
      clientId: optional("mqttClientId") ?? `telemetry-ingest-${hostname()}`,
      version: c.mqttVersion as 4 | 5,
      shareGroup: c.shareGroup,
      username: optional("mqttUsername"),
      password: mqttPassword,
      caFile: optional("mqttCaFile"),
      certFile: optional("mqttCertFile"),
      keyFile: optional("mqttKeyFile"),
    },
    redis: { url: c.redisUrl, prefix: optional("redisPrefix") ?? "telemetry" },
    elasticsearch: {
      url: c.elasticsearchUrl,
      apiKey,
      caFile: optional("elasticsearchCaFile"),
      fingerprint: optional("elasticsearchFingerprint"),
      requestTimeoutMs: c.requestTimeout,
    },
    namespace: c.namespace,
    batchSize: c.batchSize,
    flushIntervalMs: c.flushInterval,
    stageLingerMs: c.stageLinger,
    concurrency: c.concurrency,
    highWater: c.highWater,
    lowWater: c.lowWater,
    retention: optional("retention"),
    installTemplates: c.installTemplates,
    httpPort: c.httpPort,
    logLevel: c.logLevel,
  };
}

export function loadIngestConfigFromProcess(): IngestConfig {
  return loadIngestConfig(withoutLeadingDashes(process.argv.slice(2)), process.env);
}
