import { hostname } from "node:os";
import {
  Duration,
  LogLevel,
  Url,
  urlInvalid,
  type DefaultContext,
  type ProgramOptions,
  Type,
} from "@cluster-telemetry/contract/config";
import { METRIC_NAMES } from "@cluster-telemetry/contract";
import { AGENT_VERSION } from "../version.ts";

const MQTT_SCHEMES = ["mqtt", "mqtts", "ws", "wss"];

/**
 * The agent's options, each declared once: flags, environment variables, keys of the JSON config
 * file (--config), defaults, --help and agent/README.md's table all come from here.
 */
export const AGENT_OPTIONS = {
  broker: {
    schema: Url(...MQTT_SCHEMES),
    invalid: urlInvalid(...MQTT_SCHEMES),
    description: "broker URL",
    placeholder: "url",
    env: "MQTT_URL",
    default: "mqtt://localhost:1883",
  },
  host: {
    schema: Type.String(),
    description: "host name to report, and the topic level",
    placeholder: "name",
    env: "TELEMETRY_HOST",
    default: () => hostname().split(".")[0] || "localhost",
    defaultText: "this machine's host name (first label)",
  },
  intervalMs: {
    schema: Duration({ minimum: "1s" }),
    description: "sampling interval",
    flag: "--interval",
    fileKey: "interval",
    env: "TELEMETRY_INTERVAL",
    default: 10_000,
  },
  jitterMs: {
    schema: Duration({ minimum: "0s" }),
    description: "random delay before the first sample, up to this long",
    flag: "--jitter",
    fileKey: "jitter",
    env: "TELEMETRY_JITTER",
    default: 0,
  },
  once: {
    schema: Type.Boolean(),
    description: "print one sample's messages as JSON lines and exit, without connecting",
    fileKey: false,
    default: false,
  },
  mqttVersion: {
    schema: Type.Union([Type.Literal(4), Type.Literal(5)]),
    description: "MQTT protocol version: 4 (3.1.1) or 5",
    env: "MQTT_VERSION",
    default: 5,
  },
  clientId: {
    schema: Type.String({ minLength: 1 }),
    description: "MQTT client id",
    placeholder: "id",
    env: "MQTT_CLIENT_ID",
    default: ({ values }: DefaultContext) => `telemetry-agent-${String(values.host)}`,
    defaultText: "telemetry-agent-<host>",
  },
  username: {
    schema: Type.String(),
    description: "MQTT user name",
    placeholder: "name",
    env: "MQTT_USERNAME",
  },
  password: {
    schema: Type.String(),
    description: "MQTT password",
    secret: true,
    env: "MQTT_PASSWORD",
  },
  tokenFile: {
    schema: Type.String(),
    description: "file holding a token sent as the password, read again at every reconnect",
    readable: true,
    env: "MQTT_TOKEN_FILE",
  },
  caFile: {
    schema: Type.String(),
    description: "CA certificate for mqtts://",
    defaultText: "the system's CAs",
    readable: true,
    env: "MQTT_CA_FILE",
  },
  certFile: {
    schema: Type.String(),
    description: "client certificate for mutual TLS, with --key-file",
    readable: true,
    env: "MQTT_CERT_FILE",
  },
  keyFile: {
    schema: Type.String(),
    description: "client key for mutual TLS, with --cert-file",
    readable: true,
    env: "MQTT_KEY_FILE",
  },
  allowInsecure: {
    schema: Type.Boolean(),
    description: "allow a password over plain MQTT to a non-local broker",
    env: "TELEMETRY_ALLOW_INSECURE",
    default: false,
  },
  bufferMaxMessages: {
    schema: Type.Integer({ minimum: 1 }),
    description: "offline buffer bound in messages; the oldest are dropped beyond it",
    env: "TELEMETRY_BUFFER_MAX_MESSAGES",
    default: 10_000,
  },
  bufferMaxBytes: {
    schema: Type.Integer({ minimum: 1024 }),
    description: "offline buffer bound in bytes",
    env: "TELEMETRY_BUFFER_MAX_BYTES",
    default: 16 * 1024 * 1024,
  },
  spoolDir: {
    schema: Type.String({ minLength: 1 }),
    description: "keep waiting samples on disk here across restarts (the package: /var/lib/telemetry-agent)",
    placeholder: "path",
    env: "TELEMETRY_SPOOL_DIR",
    defaultText: "none: memory only",
  },
  spoolMaxBytes: {
    schema: Type.Integer({ minimum: 65_536 }),
    description: "disk spool bound in bytes; the oldest samples are dropped beyond it",
    env: "TELEMETRY_SPOOL_MAX_BYTES",
    default: 16 * 1024 * 1024,
  },
  metrics: {
    schema: Type.String({ pattern: "^[a-z_]+(,[a-z_]+)*$" }),
    invalid: "must be metric names separated by commas, e.g. cpu,load,memory",
    description:
      "the metrics to collect, separated by commas; core and temperature_sensor are one document per core or sensor input, which on a many-core server is most of the host's documents",
    placeholder: "list",
    env: "TELEMETRY_METRICS",
    default: METRIC_NAMES.join(","),
    defaultText: "every metric of the contract",
  },
  procRoot: {
    schema: Type.String({ minLength: 1 }),
    description: "root of /proc, so tests can point the collectors at fixture trees",
    flag: false,
    env: "TELEMETRY_PROC_ROOT",
    default: "/proc",
  },
  sysRoot: {
    schema: Type.String({ minLength: 1 }),
    description: "root of /sys, as TELEMETRY_PROC_ROOT",
    flag: false,
    env: "TELEMETRY_SYS_ROOT",
    default: "/sys",
  },
  etcRoot: {
    schema: Type.String({ minLength: 1 }),
    description: "root of /etc, where the machine id (host.id) is read, as TELEMETRY_PROC_ROOT",
    flag: false,
    env: "TELEMETRY_ETC_ROOT",
    default: "/etc",
  },
  logLevel: {
    schema: LogLevel(),
    description: "fatal, error, warn, info, debug or trace",
    placeholder: "level",
    env: "LOG_LEVEL",
    default: "info",
  },
} satisfies ProgramOptions["options"];

export const AGENT_PROGRAM: ProgramOptions<typeof AGENT_OPTIONS> = {
  name: "telemetry-agent",
  description: "Samples CPU load, load average, temperature and memory and publishes them over MQTT.",
  version: AGENT_VERSION,
  options: AGENT_OPTIONS,
  configFileEnv: "TELEMETRY_AGENT_CONFIG",
  epilogue:
    "Also: telemetry-agent simulate [options]  publishes for a fleet of virtual hosts (simulate --help).",
};
