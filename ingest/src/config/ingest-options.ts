import {
  Duration,
  LogLevel,
  Namespace,
  NAMESPACE_INVALID,
  Port,
  Url,
  urlInvalid,
  type ProgramOptions,
  Type,
  MQTT_SERVICE_CREDENTIALS,
} from "@cluster-telemetry/contract/config";
import { hostname } from "node:os";
import { SUBSCRIPTION } from "@cluster-telemetry/contract";
import { VERSION } from "../version.ts";

const MQTT_SCHEMES = ["mqtt", "mqtts", "ws", "wss"];

/**
 * The ingest's options, each declared once: flags, environment variables, keys of the JSON config
 * file (--config), defaults, --help and ingest/README.md's table all come from here, and the typed
 * IngestConfig is this table's values (durations in milliseconds).
 */
export const INGEST_OPTIONS = {
  mqttUrl: {
    schema: Url(...MQTT_SCHEMES),
    invalid: urlInvalid(...MQTT_SCHEMES),
    description: "broker URL; mqtts:// for TLS",
    placeholder: "url",
    env: "MQTT_URL",
    default: "mqtt://localhost:1883",
  },
  mqttClientId: {
    schema: Type.String({ minLength: 1 }),
    description: "stable per instance: names the persistent session",
    placeholder: "id",
    env: "MQTT_CLIENT_ID",
    default: () => `telemetry-ingest-${hostname()}`,
    defaultText: "telemetry-ingest-<hostname>",
  },
  mqttVersion: {
    schema: Type.Union([Type.Literal(4), Type.Literal(5)]),
    description: "MQTT protocol version: 4 (3.1.1) or 5",
    env: "MQTT_VERSION",
    default: 5,
  },
  shareGroup: {
    schema: Type.String({ pattern: "^[A-Za-z0-9_-]+$" }),
    invalid: "must be letters, digits, _ and -",
    description: `subscribe as $share/<group>/${SUBSCRIPTION} so instances split the load`,
    placeholder: "name",
    env: "INGEST_SHARE_GROUP",
  },
  mqttUsername: {
    schema: Type.String(),
    description: "MQTT user name",
    placeholder: "name",
    env: "MQTT_USERNAME",
  },
  ...MQTT_SERVICE_CREDENTIALS,
  redisUrl: {
    schema: Url("redis", "rediss"),
    invalid: urlInvalid("redis", "rediss"),
    description: "Redis with AOF and noeviction",
    placeholder: "url",
    env: "REDIS_URL",
    default: "redis://localhost:6379",
  },
  redisPrefix: {
    schema: Type.String({ minLength: 1 }),
    description: "prefix of staging keys and the queue name",
    placeholder: "prefix",
    env: "INGEST_REDIS_PREFIX",
    default: "telemetry",
  },
  elasticsearchUrl: {
    schema: Url("http", "https"),
    invalid: urlInvalid("http", "https"),
    description: "Elasticsearch URL",
    placeholder: "url",
    env: "ELASTICSEARCH_URL",
    default: "http://localhost:9200",
  },
  elasticsearchApiKey: {
    schema: Type.String(),
    description: "Elasticsearch API key",
    secret: true,
    env: "ELASTICSEARCH_API_KEY",
  },
  elasticsearchCaFile: {
    schema: Type.String(),
    description: "CA certificate for https://",
    readable: true,
    env: "ELASTICSEARCH_CA_FILE",
  },
  elasticsearchFingerprint: {
    schema: Type.String({ minLength: 1 }),
    description: "CA fingerprint for https://, instead of a CA file",
    placeholder: "sha256",
    env: "ELASTICSEARCH_CA_FINGERPRINT",
  },
  requestTimeoutMs: {
    schema: Duration({ minimum: "100ms", maximum: "10m" }),
    description: "longest wait for one Elasticsearch request: a hung cluster must not hang a worker",
    flag: "--request-timeout",
    fileKey: "requestTimeout",
    env: "INGEST_REQUEST_TIMEOUT",
    default: 30_000,
  },
  namespace: {
    schema: Namespace(),
    invalid: NAMESPACE_INVALID,
    description: "data stream namespace",
    placeholder: "name",
    env: "INGEST_NAMESPACE",
    default: "default",
  },
  batchSize: {
    schema: Type.Integer({ minimum: 1, maximum: 50_000 }),
    description: "documents per bulk request",
    env: "INGEST_BATCH_SIZE",
    default: 1000,
  },
  flushIntervalMs: {
    schema: Duration({ minimum: "10ms", maximum: "1m" }),
    description: "longest a message waits in staging before it is batched",
    flag: "--flush-interval",
    fileKey: "flushInterval",
    env: "INGEST_FLUSH_INTERVAL",
    default: 1000,
  },
  stageLingerMs: {
    schema: Duration({ minimum: "0ms", maximum: "100ms" }),
    description: "how long the intake gathers messages into one Redis write; PUBACKs wait this much longer",
    flag: "--stage-linger",
    fileKey: "stageLinger",
    env: "INGEST_STAGE_LINGER",
    default: 5,
  },
  concurrency: {
    schema: Type.Integer({ minimum: 1 }),
    description: "parallel bulk requests per instance",
    env: "INGEST_CONCURRENCY",
    default: 2,
  },
  highWater: {
    schema: Type.Integer({ minimum: 1 }),
    description: "queued documents at which the intake pauses",
    env: "INGEST_HIGH_WATER",
    default: 100_000,
  },
  lowWater: {
    schema: Type.Integer({ minimum: 0 }),
    description: "queued documents at which it resumes",
    env: "INGEST_LOW_WATER",
    default: 50_000,
  },
  retentionMs: {
    schema: Duration({ minimum: "1s" }),
    description: "data stream retention, e.g. 30d",
    flag: "--retention",
    fileKey: "retention",
    env: "INGEST_RETENTION",
    defaultText: "none: kept forever",
  },
  installTemplates: {
    schema: Type.Boolean(),
    description: "install the index templates at start; false where a setup step does (least privilege)",
    env: "INGEST_INSTALL_TEMPLATES",
    default: true,
  },
  httpPort: {
    schema: Port(),
    description: "port of /healthz, /readyz and /metrics; 0 picks a free one",
    placeholder: "port",
    env: "INGEST_HTTP_PORT",
    default: 9464,
  },
  logLevel: {
    schema: LogLevel({ silent: true }),
    description: "fatal, error, warn, info, debug, trace or silent",
    placeholder: "level",
    env: "LOG_LEVEL",
    default: "info",
  },
} satisfies ProgramOptions["options"];

export const INGEST_PROGRAM: ProgramOptions<typeof INGEST_OPTIONS> = {
  name: "telemetry-ingest",
  description: "MQTT → Redis → Elasticsearch for cluster telemetry.",
  version: VERSION,
  options: INGEST_OPTIONS,
  configFileEnv: "TELEMETRY_INGEST_CONFIG",
};
