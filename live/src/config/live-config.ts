import { loadOptions, type ConfigOf } from "@cluster-telemetry/contract/config";
import type { LIVE_OPTIONS } from "./live-options.ts";
import { LIVE_PROGRAM } from "./live-options.ts";

export { ConfigError, ConfigExit } from "@cluster-telemetry/contract/config";

/** How a browser proves it may see the page. */
export type LiveAuth =
  | { kind: "token"; /** The file holding the token; created with a random one when missing. */ file: string }
  | { kind: "basic"; username: string; password: string };

/**
 * telemetry-live's one configuration object, built once at start from flags, then environment
 * variables, then an optional JSON file, as live-options.ts declares them, and grouped here for
 * the parts that use them. Durations are in milliseconds. Nothing else reads process.env.
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
  /** How far back the rings (and the history loaded at start) reach, in ms (whole minutes). @defaultValue 15 min */
  windowMs: number;
  /** Time between two updates to one browser, in ms; at least 1000. @defaultValue 1000 */
  pushIntervalMs: number;
  logLevel: string;
}

type LiveOptions = ConfigOf<typeof LIVE_OPTIONS>;

/** What no single option can say. */
function liveProblems(c: Partial<LiveOptions>): string[] {
  const problems: string[] = [];
  if (c.windowMs !== undefined && c.windowMs % 60_000 !== 0)
    problems.push("--window must be whole minutes, e.g. 15m");
  if ((c.tlsCertFile === undefined) !== (c.tlsKeyFile === undefined))
    problems.push("TLS needs both a certificate file and a key file (--tls-cert-file, --tls-key-file)");
  if (Boolean(c.mqttCertFile) !== Boolean(c.mqttKeyFile))
    problems.push("--mqtt-cert-file and --mqtt-key-file go together");
  if (c.authUsername !== undefined && c.authPassword === undefined)
    problems.push(
      "basic auth needs a password (--auth-password-file, LIVE_AUTH_PASSWORD_FILE or LIVE_AUTH_PASSWORD)",
    );
  return problems;
}

/** Builds the configuration or throws ConfigError (every problem at once) or ConfigExit. */
export function loadLiveConfig(argv: readonly string[], env: NodeJS.ProcessEnv): LiveConfig {
  const c = loadOptions(LIVE_PROGRAM, argv, env, liveProblems);
  return {
    mqtt: {
      url: c.mqttUrl,
      clientId: c.mqttClientId,
      version: c.mqttVersion,
      username: c.mqttUsername,
      password: c.mqttPassword,
      caFile: c.mqttCaFile,
      certFile: c.mqttCertFile,
      keyFile: c.mqttKeyFile,
    },
    elasticsearch: c.elasticsearchUrl
      ? {
          url: c.elasticsearchUrl,
          apiKey: c.elasticsearchApiKey,
          caFile: c.elasticsearchCaFile,
          namespace: c.namespace,
        }
      : undefined,
    http: { host: c.host, port: c.port, tlsCertFile: c.tlsCertFile, tlsKeyFile: c.tlsKeyFile },
    // Basic auth when a user name is given, otherwise a token from a file (created when missing).
    auth:
      c.authUsername !== undefined && c.authPassword !== undefined
        ? { kind: "basic", username: c.authUsername, password: c.authPassword }
        : { kind: "token", file: c.authTokenFile },
    hotCelsius: c.hotCelsius,
    maxHosts: c.maxHosts,
    windowMs: c.windowMs,
    pushIntervalMs: c.pushIntervalMs,
    logLevel: c.logLevel,
  };
}

export function loadLiveConfigFromProcess(): LiveConfig {
  return loadLiveConfig(process.argv.slice(2), process.env);
}
