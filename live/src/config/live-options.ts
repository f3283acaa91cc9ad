import { homedir, hostname } from "node:os";
import { join } from "node:path";
import {
  Duration,
  LogLevel,
  Namespace,
  NAMESPACE_INVALID,
  Port,
  Url,
  urlInvalid,
  type DefaultContext,
  type ProgramOptions,
  Type,
  MQTT_SERVICE_CREDENTIALS,
} from "@cluster-telemetry/contract/config";
import { VERSION } from "../version.ts";

const MQTT_SCHEMES = ["mqtt", "mqtts", "ws", "wss"];

/**
 * telemetry-live's options, each declared once: flags, environment variables, keys of the JSON
 * config file (--config), defaults, --help and live/README.md's table all come from here.
 */
export const LIVE_OPTIONS = {
  mqttUrl: {
    schema: Url(...MQTT_SCHEMES),
    invalid: urlInvalid(...MQTT_SCHEMES),
    description: "broker URL: mqtt://, mqtts://, ws://, wss://",
    placeholder: "url",
    env: "MQTT_URL",
    default: "mqtt://localhost:1883",
  },
  mqttClientId: {
    schema: Type.String({ minLength: 1 }),
    description: "MQTT client id (a clean session; unique per process by default)",
    placeholder: "id",
    env: "LIVE_MQTT_CLIENT_ID",
    default: () => `telemetry-live-${hostname()}-${process.pid}`,
    defaultText: "telemetry-live-<hostname>-<pid>",
  },
  mqttVersion: {
    schema: Type.Union([Type.Literal(4), Type.Literal(5)]),
    description: "MQTT protocol version, 4 (3.1.1) or 5",
    env: "MQTT_VERSION",
    default: 5,
  },
  mqttUsername: {
    schema: Type.String(),
    description: "MQTT user name, e.g. telemetry-viewer",
    placeholder: "name",
    env: "MQTT_USERNAME",
  },
  ...MQTT_SERVICE_CREDENTIALS,
  elasticsearchUrl: {
    schema: Url("http", "https"),
    invalid: urlInvalid("http", "https"),
    description: "where the history comes from",
    placeholder: "url",
    env: "ELASTICSEARCH_URL",
    defaultText: "none: no history",
  },
  elasticsearchApiKey: {
    schema: Type.String(),
    description: "read-only Elasticsearch API key",
    secret: true,
    env: "ELASTICSEARCH_API_KEY",
  },
  elasticsearchCaFile: {
    schema: Type.String(),
    description: "CA certificate for https://",
    readable: true,
    env: "ELASTICSEARCH_CA_FILE",
  },
  namespace: {
    schema: Namespace(),
    invalid: NAMESPACE_INVALID,
    description: "data stream namespace the ingest writes to",
    placeholder: "name",
    env: "LIVE_NAMESPACE",
    default: "default",
  },
  host: {
    schema: Type.String({ minLength: 1 }),
    description: "address to listen on",
    placeholder: "address",
    env: "LIVE_HOST",
    default: "127.0.0.1",
  },
  port: {
    schema: Port(),
    description: "port to listen on; 0 picks a free one",
    placeholder: "port",
    env: "LIVE_PORT",
    default: 8080,
  },
  tlsCertFile: {
    schema: Type.String(),
    description: "HTTPS certificate (with the key)",
    readable: true,
    env: "LIVE_TLS_CERT_FILE",
  },
  tlsKeyFile: {
    schema: Type.String(),
    description: "HTTPS key (with the certificate)",
    readable: true,
    env: "LIVE_TLS_KEY_FILE",
  },
  authTokenFile: {
    schema: Type.String({ minLength: 1 }),
    description: "file holding the page's token; created with a random one when missing",
    placeholder: "path",
    env: "LIVE_AUTH_TOKEN_FILE",
    // The user's state directory (XDG), where a generated token survives restarts of the program.
    default: ({ env }: DefaultContext) =>
      join(env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local", "state"), "telemetry-live", "token"),
    defaultText: "$XDG_STATE_HOME/telemetry-live/token",
  },
  authUsername: {
    schema: Type.String({ minLength: 1 }),
    description: "basic auth instead of a token: the user name",
    placeholder: "name",
    env: "LIVE_AUTH_USERNAME",
  },
  authPassword: {
    schema: Type.String(),
    description: "basic auth password",
    secret: true,
    env: "LIVE_AUTH_PASSWORD",
  },
  hotCelsius: {
    schema: Type.Number({ minimum: 0, maximum: 150 }),
    description: "temperature in °C at and above which a host is hot",
    placeholder: "celsius",
    env: "LIVE_HOT_CELSIUS",
    default: 80,
  },
  maxHosts: {
    schema: Type.Integer({ minimum: 1 }),
    description: "hosts kept at most; further hosts are dropped with a warning",
    env: "LIVE_MAX_HOSTS",
    default: 10_000,
  },
  windowMs: {
    schema: Duration({ minimum: "1m", maximum: "2h" }),
    description: "history in the rings, the sparklines and the detail charts, in whole minutes",
    flag: "--window",
    fileKey: "window",
    env: "LIVE_WINDOW",
    default: 15 * 60_000,
  },
  pushIntervalMs: {
    schema: Duration({ minimum: "1s", maximum: "1m" }),
    description: "time between two updates to a browser",
    flag: "--push-interval",
    fileKey: "pushInterval",
    env: "LIVE_PUSH_INTERVAL",
    default: 1000,
  },
  logLevel: {
    schema: LogLevel({ silent: true }),
    description: "fatal, error, warn, info, debug, trace or silent",
    placeholder: "level",
    env: "LOG_LEVEL",
    default: "info",
  },
} satisfies ProgramOptions["options"];

export const LIVE_PROGRAM: ProgramOptions<typeof LIVE_OPTIONS> = {
  name: "telemetry-live",
  description: "The fleet, live in a browser: subscribes to the broker and pushes coalesced updates.",
  version: VERSION,
  options: LIVE_OPTIONS,
  configFileEnv: "TELEMETRY_LIVE_CONFIG",
};
