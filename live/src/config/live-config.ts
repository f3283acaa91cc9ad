import { VERSION } from "../version.ts";
import { readFileSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { z } from "zod";
import { ConfigError, ConfigExit } from "@cluster-telemetry/contract/config";

export { ConfigError, ConfigExit };

/** How a browser proves it may see the page. */
export type LiveAuth =
  | { kind: "token"; /** The file holding the token; created with a random one when missing. */ file: string }
  | { kind: "basic"; username: string; password: string };

/**
 * telemetry-live's one configuration object, built once at start from flags, then environment
 * variables, then an optional JSON file. Nothing else reads process.env.
 */
export interface LiveConfig {
  mqtt: {
    url: string;
    /** @defaultValue telemetry-live-<os host name>-<pid>: a clean session per process. */
    clientId: string;
    version: 4 | 5;
    username: string | undefined;
    password: string | undefined;
    caFile: string | undefined;
    certFile: string | undefined;
    keyFile: string | undefined;
  };
  /** Where the history comes from; undefined leaves sparklines to fill from live samples. */
  elasticsearch:
    { url: string; apiKey: string | undefined; caFile: string | undefined; namespace: string } | undefined;
  http: {
    /** @defaultValue 127.0.0.1: loopback unless told otherwise. */
    host: string;
    /** 0 picks a free port. @defaultValue 8080 */
    port: number;
    /** HTTPS when both are set. */
    tlsCertFile: string | undefined;
    tlsKeyFile: string | undefined;
  };
  auth: LiveAuth;
  /** Temperature at and above which a host is hot, in °C. @defaultValue 80 */
  hotCelsius: number;
  /** Hosts kept at most; samples of further hosts are dropped with a log line. @defaultValue 10000 */
  maxHosts: number;
  /** How far back the rings (and the history loaded at start) reach, in minutes. @defaultValue 15 */
  windowMinutes: number;
  /** Time between two updates to one browser, in ms; at least 1000. @defaultValue 1000 */
  pushIntervalMs: number;
  logLevel: string;
}

const FILE_KEYS = [
  "mqttUrl",
  "mqttClientId",
  "mqttVersion",
  "mqttUsername",
  "mqttPasswordFile",
  "mqttCaFile",
  "mqttCertFile",
  "mqttKeyFile",
  "elasticsearchUrl",
  "elasticsearchApiKeyFile",
  "elasticsearchCaFile",
  "namespace",
  "host",
  "port",
  "tlsCertFile",
  "tlsKeyFile",
  "authTokenFile",
  "authUsername",
  "authPasswordFile",
  "hotCelsius",
  "maxHosts",
  "windowMinutes",
  "pushInterval",
  "logLevel",
] as const;
type Key = (typeof FILE_KEYS)[number];

export const LIVE_ENV: Record<Key, string> = {
  mqttUrl: "MQTT_URL",
  mqttClientId: "LIVE_MQTT_CLIENT_ID",
  mqttVersion: "MQTT_VERSION",
  mqttUsername: "MQTT_USERNAME",
  mqttPasswordFile: "MQTT_PASSWORD_FILE",
  mqttCaFile: "MQTT_CA_FILE",
  mqttCertFile: "MQTT_CERT_FILE",
  mqttKeyFile: "MQTT_KEY_FILE",
  elasticsearchUrl: "ELASTICSEARCH_URL",
  elasticsearchApiKeyFile: "ELASTICSEARCH_API_KEY_FILE",
  elasticsearchCaFile: "ELASTICSEARCH_CA_FILE",
  namespace: "LIVE_NAMESPACE",
  host: "LIVE_HOST",
  port: "LIVE_PORT",
  tlsCertFile: "LIVE_TLS_CERT_FILE",
  tlsKeyFile: "LIVE_TLS_KEY_FILE",
  authTokenFile: "LIVE_AUTH_TOKEN_FILE",
  authUsername: "LIVE_AUTH_USERNAME",
  authPasswordFile: "LIVE_AUTH_PASSWORD_FILE",
  hotCelsius: "LIVE_HOT_CELSIUS",
  maxHosts: "LIVE_MAX_HOSTS",
  windowMinutes: "LIVE_WINDOW_MINUTES",
  pushInterval: "LIVE_PUSH_INTERVAL",
  logLevel: "LOG_LEVEL",
};

/** What each option does, for --help and the README's table. */
export const LIVE_HELP: Record<Key, string> = {
  mqttUrl: "broker URL: mqtt://, mqtts://, ws://, wss://",
  mqttClientId: "MQTT client id (a clean session; unique per process by default)",
  mqttVersion: "MQTT protocol version, 4 (3.1.1) or 5",
  mqttUsername: "MQTT user name, e.g. telemetry-viewer",
  mqttPasswordFile: "file holding the MQTT password (or env MQTT_PASSWORD)",
  mqttCaFile: "CA certificate for mqtts://",
  mqttCertFile: "client certificate for mutual TLS",
  mqttKeyFile: "client key for mutual TLS",
  elasticsearchUrl: "where the history comes from; unset: no history",
  elasticsearchApiKeyFile: "file holding a read-only API key (or env ELASTICSEARCH_API_KEY)",
  elasticsearchCaFile: "CA certificate for https://",
  namespace: "data stream namespace the ingest writes to",
  host: "address to listen on",
  port: "port to listen on; 0 picks a free one",
  tlsCertFile: "HTTPS certificate (with the key)",
  tlsKeyFile: "HTTPS key (with the certificate)",
  authTokenFile: "file holding the page's token; created with a random one when missing",
  authUsername: "basic auth instead of a token: the user name",
  authPasswordFile: "basic auth: file holding the password",
  hotCelsius: "temperature in °C at and above which a host is hot",
  maxHosts: "hosts kept at most; further hosts are dropped with a warning",
  windowMinutes: "minutes of history in the rings, the sparklines and the detail charts",
  pushInterval: "ms between two updates to a browser; at least 1000",
  logLevel: "fatal, error, warn, info, debug, trace or silent",
};

/** The README's option table, generated from the definitions above (a test keeps the README in step). */
export function liveOptionsTable(): string {
  const rows = FILE_KEYS.map((key) => {
    const fallback = key === "authTokenFile" ? "`$XDG_STATE_HOME/telemetry-live/token`" : LIVE_DEFAULTS[key];
    return `| \`--${flagName(key)}\` | \`${LIVE_ENV[key]}\` | \`${key}\` | ${fallback === undefined ? "" : String(fallback).startsWith("`") ? fallback : `\`${fallback}\``} | ${LIVE_HELP[key]} |`;
  });
  return ["| flag | env | file key | default | what |", "| --- | --- | --- | --- | --- |", ...rows].join(
    "\n",
  );
}

export const LIVE_DEFAULTS: Partial<Record<Key, string | number>> = {
  mqttUrl: "mqtt://localhost:1883",
  mqttVersion: 5,
  namespace: "default",
  host: "127.0.0.1",
  port: 8080,
  hotCelsius: 80,
  maxHosts: 10_000,
  windowMinutes: 15,
  pushInterval: 1000,
  logLevel: "info",
};

const flagName = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const num = (what: string) => z.coerce.number({ invalid_type_error: `${what} must be a number` });
const int = (what: string, min: number) =>
  num(what).int(`${what} must be a whole number`).min(min, `${what} must be at least ${min}`);
const url = (what: string, schemes: RegExp) =>
  z
    .string()
    .url(`${what} must be a URL`)
    .refine((u) => schemes.test(u), `${what} has an unsupported scheme`);

const Resolved = z.object({
  mqttUrl: url("MQTT url", /^(mqtts?|wss?):\/\//),
  mqttVersion: z.coerce.number().refine((v) => v === 4 || v === 5, "mqtt version must be 4 (3.1.1) or 5"),
  elasticsearchUrl: url("Elasticsearch url", /^https?:\/\//).optional(),
  namespace: z.string().regex(/^[a-z0-9][a-z0-9_]*$/, "namespace must be lower-case letters, digits and _"),
  host: z.string().min(1, "host must name an address to listen on"),
  port: int("port", 0).max(65_535, "port must be at most 65535"),
  hotCelsius: num("hot celsius")
    .min(0, "hot celsius must be at least 0")
    .max(150, "hot celsius must be at most 150"),
  maxHosts: int("max hosts", 1),
  windowMinutes: int("window minutes", 1).max(120, "window minutes must be at most 120"),
  pushInterval: int("push interval", 1000),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
});

/** Builds the configuration or throws ConfigError (every problem at once) or ConfigExit. */
export function loadLiveConfig(argv: string[], env: NodeJS.ProcessEnv): LiveConfig {
  const program = new Command("telemetry-live")
    .description("The fleet, live in a browser: subscribes to the broker and pushes coalesced updates.")
    .version(VERSION)
    .option("--config <path>", "JSON config file (env TELEMETRY_LIVE_CONFIG)")
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  for (const key of FILE_KEYS)
    program.option(`--${flagName(key)} <value>`, `${LIVE_HELP[key]} (env ${LIVE_ENV[key]})`);

  let flags: Record<string, string | undefined>;
  try {
    program.parse(argv, { from: "user" });
    flags = program.opts();
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.help")
        throw new ConfigExit(program.helpInformation());
      if (error.code === "commander.version") throw new ConfigExit("0.1.0\n");
      throw new ConfigError([error.message.replace(/^error: /, "")]);
    }
    throw error;
  }
  const problems: string[] = [];
  let file: Partial<Record<Key, string | number>> = {};
  const configPath = flags.config ?? env.TELEMETRY_LIVE_CONFIG;
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
  const value = (key: Key): string | number | undefined =>
    flags[key] ?? (env[LIVE_ENV[key]] || undefined) ?? file[key];
  const candidate = Object.fromEntries(FILE_KEYS.map((k) => [k, value(k) ?? LIVE_DEFAULTS[k]]));
  const resolved = Resolved.safeParse(candidate);
  if (!resolved.success) problems.push(...resolved.error.issues.map((i) => i.message));

  const readSecret = (key: Key, what: string): string | undefined => {
    const path = value(key);
    if (path === undefined) return undefined;
    try {
      const text = readFileSync(String(path), "utf8").trim();
      if (text.length === 0) problems.push(`${what} ${String(path)} is empty`);
      return text;
    } catch (error) {
      problems.push(
        `${what} ${String(path)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
      return undefined;
    }
  };
  const mqttPassword = readSecret("mqttPasswordFile", "MQTT password file") ?? env.MQTT_PASSWORD;
  const apiKey =
    readSecret("elasticsearchApiKeyFile", "Elasticsearch API key file") ?? env.ELASTICSEARCH_API_KEY;
  for (const [key, what] of [
    ["mqttCaFile", "MQTT CA file"],
    ["mqttCertFile", "MQTT cert file"],
    ["mqttKeyFile", "MQTT key file"],
    ["elasticsearchCaFile", "Elasticsearch CA file"],
    ["tlsCertFile", "TLS certificate file"],
    ["tlsKeyFile", "TLS key file"],
  ] as const) {
    readSecret(key, what);
  }
  const optional = (key: Key) => (value(key) === undefined ? undefined : String(value(key)));
  if ((optional("tlsCertFile") === undefined) !== (optional("tlsKeyFile") === undefined))
    problems.push("TLS needs both a certificate file and a key file");
  const auth = resolveAuth(optional, readSecret, problems, defaultTokenFile(env));
  if (problems.length > 0 || !resolved.success || !auth) throw new ConfigError(problems);
  const c = resolved.data;
  return {
    mqtt: {
      url: c.mqttUrl,
      clientId: optional("mqttClientId") ?? `telemetry-live-${hostname()}-${process.pid}`,
      version: c.mqttVersion as 4 | 5,
      username: optional("mqttUsername"),
      password: mqttPassword,
      caFile: optional("mqttCaFile"),
      certFile: optional("mqttCertFile"),
      keyFile: optional("mqttKeyFile"),
    },
    elasticsearch: c.elasticsearchUrl
      ? { url: c.elasticsearchUrl, apiKey, caFile: optional("elasticsearchCaFile"), namespace: c.namespace }
      : undefined,
    http: {
      host: c.host,
      port: c.port,
      tlsCertFile: optional("tlsCertFile"),
      tlsKeyFile: optional("tlsKeyFile"),
    },
    auth,
    hotCelsius: c.hotCelsius,
    maxHosts: c.maxHosts,
    windowMinutes: c.windowMinutes,
    pushIntervalMs: c.pushInterval,
    logLevel: c.logLevel,
  };
}

/**
 * Basic auth when a user name is given (its password from a file), otherwise a token from a file.
 * A token file that does not exist yet is created with a fresh random token (mode 0600), so a
 * first start needs no preparation and the secret never passes through a flag or a log.
 */
function resolveAuth(
  optional: (key: Key) => string | undefined,
  readSecret: (key: Key, what: string) => string | undefined,
  problems: string[],
  defaultFile: string,
): LiveAuth | undefined {
  const username = optional("authUsername");
  if (username !== undefined) {
    if (optional("authPasswordFile") === undefined) {
      problems.push("basic auth needs a password file (--auth-password-file or LIVE_AUTH_PASSWORD_FILE)");
      return undefined;
    }
    const password = readSecret("authPasswordFile", "auth password file");
    return password ? { kind: "basic", username, password } : undefined;
  }
  return { kind: "token", file: optional("authTokenFile") ?? defaultFile };
}

/** The user's state directory (XDG), where a generated token survives restarts of the program. */
function defaultTokenFile(env: NodeJS.ProcessEnv): string {
  const state = env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local", "state");
  return join(state, "telemetry-live", "token");
}

export function loadLiveConfigFromProcess(): LiveConfig {
  return loadLiveConfig(process.argv.slice(2), process.env);
}
