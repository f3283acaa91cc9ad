import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { Command } from "commander";
import { z } from "zod";
import { hostNameProblem } from "@cluster-telemetry/contract";
import { AGENT_VERSION } from "../version.ts";
import {
  ConfigError,
  ConfigExit,
  parseFlags,
  withoutLeadingDashes,
} from "@cluster-telemetry/contract/config";

export { ConfigError, ConfigExit };

/**
 * The agent's one configuration object, built once at start from flags, then environment
 * variables, then an optional JSON file (in that order of precedence). Nothing else reads
 * process.env.
 */
export interface AgentConfig {
  /** Broker URL: mqtt://, mqtts://, ws://, wss://. */
  broker: string;
  /** Reported host name and topic level. @defaultValue the OS host name */
  host: string;
  /** Sampling interval in ms (≥ 1000). @defaultValue 10000 */
  intervalMs: number;
  /** Random delay before the first sample, up to this many ms. @defaultValue 0 */
  jitterMs: number;
  /** Print one sample's messages as JSON lines and exit without connecting. */
  once: boolean;
  mqttVersion: 4 | 5;
  clientId: string;
  username: string | undefined;
  password: string | undefined;
  /** Read at every (re)connect and sent as the password (brokers that check JWTs). */
  tokenFile: string | undefined;
  caFile: string | undefined;
  certFile: string | undefined;
  keyFile: string | undefined;
  allowInsecure: boolean;
  /** Offline buffer bounds; the oldest samples are dropped beyond them. */
  bufferMaxMessages: number;
  bufferMaxBytes: number;
  /** Directory of the disk spool that keeps waiting samples across a restart; none: memory only. */
  spoolDir: string | undefined;
  /** Most bytes of samples in the spool; the oldest are dropped beyond it. @defaultValue 16 MiB */
  spoolMaxBytes: number;
  /** Roots of /proc, /sys and /etc (machine-id), so tests can point the agent at fixture trees. */
  procRoot: string;
  sysRoot: string;
  etcRoot: string;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace";
}

const positiveInt = (what: string) =>
  z.coerce.number({ invalid_type_error: `${what} must be a number` }).int(`${what} must be a whole number`);

const FileSchema = z
  .object({
    broker: z.string(),
    host: z.string(),
    interval: z.number(),
    jitter: z.number(),
    mqttVersion: z.union([z.literal(4), z.literal(5)]),
    clientId: z.string(),
    username: z.string(),
    passwordFile: z.string(),
    tokenFile: z.string(),
    caFile: z.string(),
    certFile: z.string(),
    keyFile: z.string(),
    allowInsecure: z.boolean(),
    bufferMaxMessages: z.number(),
    bufferMaxBytes: z.number(),
    spoolDir: z.string(),
    spoolMaxBytes: z.number(),
    procRoot: z.string(),
    sysRoot: z.string(),
    etcRoot: z.string(),
    logLevel: z.string(),
  })
  .partial()
  .strict();

const Resolved = z.object({
  broker: z
    .string()
    .url("broker must be a URL such as mqtt://broker:1883 or mqtts://broker:8883")
    .refine((u) => /^(mqtts?|wss?):\/\//.test(u), "broker must use mqtt://, mqtts://, ws:// or wss://"),
  host: z.string().superRefine((h, ctx) => {
    const problem = hostNameProblem(h);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }),
  interval: z.coerce
    .number({ invalid_type_error: "interval must be a number of seconds" })
    .min(1, "interval must be at least 1 second"),
  jitter: z.coerce.number({ invalid_type_error: "jitter must be a number of seconds" }).min(0),
  mqttVersion: z.coerce.number().refine((v) => v === 4 || v === 5, "mqtt version must be 4 (3.1.1) or 5"),
  bufferMaxMessages: positiveInt("buffer max messages").min(1),
  bufferMaxBytes: positiveInt("buffer max bytes").min(1024, "buffer max bytes must be at least 1024"),
  spoolMaxBytes: positiveInt("spool max bytes").min(65536, "spool max bytes must be at least 65536"),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]),
});

const LOCAL = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|::1)$/;

/** Builds the configuration or throws ConfigError (every problem at once) or ConfigExit. */
export function loadAgentConfig(argv: string[], env: NodeJS.ProcessEnv): AgentConfig {
  const program = new Command("telemetry-agent")
    .description(
      "Samples CPU load, load average, temperature and memory and publishes them over MQTT.\n\n" +
        "Also: telemetry-agent simulate [options]  publishes for a fleet of virtual hosts (simulate --help).",
    )
    .version(AGENT_VERSION)
    .option("--broker <url>", "broker URL (env MQTT_URL; default: mqtt://localhost:1883)")
    .option("--host <name>", "host name to report (env TELEMETRY_HOST; default: this machine's host name)")
    .option("--interval <seconds>", "sampling interval, at least 1 (env TELEMETRY_INTERVAL; default: 10)")
    .option("--jitter <seconds>", "random delay before the first sample (env TELEMETRY_JITTER; default: 0)")
    .option("--once", "print one sample's messages as JSON lines and exit, without connecting (default: off)")
    .option("--mqtt-version <4|5>", "MQTT protocol version (env MQTT_VERSION; default: 5)")
    .option("--client-id <id>", "MQTT client id (env MQTT_CLIENT_ID; default: telemetry-agent-<host>)")
    .option("--username <name>", "MQTT user name (env MQTT_USERNAME; default: none)")
    .option(
      "--password-file <path>",
      "file holding the MQTT password (env MQTT_PASSWORD_FILE, or MQTT_PASSWORD; default: none)",
    )
    .option(
      "--token-file <path>",
      "file holding a token sent as password, re-read at every reconnect (env MQTT_TOKEN_FILE; default: none)",
    )
    .option("--ca-file <path>", "CA certificate for mqtts:// (env MQTT_CA_FILE; default: the system's CAs)")
    .option("--cert-file <path>", "client certificate for mutual TLS (env MQTT_CERT_FILE; default: none)")
    .option("--key-file <path>", "client key for mutual TLS (env MQTT_KEY_FILE; default: none)")
    .option(
      "--allow-insecure",
      "allow a password over plain MQTT to a non-local broker (env TELEMETRY_ALLOW_INSECURE=true; default: off)",
    )
    .option(
      "--buffer-max-messages <n>",
      "offline buffer bound in messages (env TELEMETRY_BUFFER_MAX_MESSAGES; default: 10000)",
    )
    .option(
      "--buffer-max-bytes <n>",
      "offline buffer bound in bytes (env TELEMETRY_BUFFER_MAX_BYTES; default: 16777216)",
    )
    .option(
      "--spool-dir <path>",
      "keep waiting samples on disk here across restarts (env TELEMETRY_SPOOL_DIR; default: none, memory only)",
    )
    .option(
      "--spool-max-bytes <n>",
      "disk spool bound in bytes (env TELEMETRY_SPOOL_MAX_BYTES; default: 16777216)",
    )
    .option("--config <path>", "JSON config file (env TELEMETRY_AGENT_CONFIG; default: none)")
    .option("--log-level <level>", "fatal, error, warn, info, debug or trace (env LOG_LEVEL; default: info)");
  const flags = parseFlags<Record<string, string | boolean | undefined>>(program, argv);

  const problems: string[] = [];
  let file: z.infer<typeof FileSchema> = {};
  const configPath = (flags.config as string | undefined) ?? env.TELEMETRY_AGENT_CONFIG;
  if (configPath) {
    try {
      const parsed = FileSchema.safeParse(JSON.parse(readFileSync(configPath, "utf8")));
      if (parsed.success) file = parsed.data;
      else problems.push(...parsed.error.issues.map((i) => `config file ${configPath}: ${issueText(i)}`));
    } catch (error) {
      problems.push(`config file ${configPath}: ${(error as Error).message}`);
    }
  }
  const pick = <T>(flag: T | undefined, envValue: T | undefined, fileValue: T | undefined, fallback: T): T =>
    flag ?? envValue ?? fileValue ?? fallback;
  const str = (name: string) => flags[name] as string | undefined;

  const candidate = {
    broker: pick(str("broker"), env.MQTT_URL, file.broker, "mqtt://localhost:1883"),
    host: pick(str("host"), env.TELEMETRY_HOST, file.host, hostname().split(".")[0] ?? "localhost"),
    interval: pick<string | number>(str("interval"), env.TELEMETRY_INTERVAL, file.interval, 10),
    jitter: pick<string | number>(str("jitter"), env.TELEMETRY_JITTER, file.jitter, 0),
    mqttVersion: pick<string | number>(str("mqttVersion"), env.MQTT_VERSION, file.mqttVersion, 5),
    bufferMaxMessages: pick<string | number>(
      str("bufferMaxMessages"),
      env.TELEMETRY_BUFFER_MAX_MESSAGES,
      file.bufferMaxMessages,
      10_000,
    ),
    bufferMaxBytes: pick<string | number>(
      str("bufferMaxBytes"),
      env.TELEMETRY_BUFFER_MAX_BYTES,
      file.bufferMaxBytes,
      16 * 1024 * 1024,
    ),
    spoolMaxBytes: pick<string | number>(
      str("spoolMaxBytes"),
      env.TELEMETRY_SPOOL_MAX_BYTES,
      file.spoolMaxBytes,
      16 * 1024 * 1024,
    ),
    logLevel: pick(str("logLevel"), env.LOG_LEVEL, file.logLevel, "info"),
  };
  const resolved = Resolved.safeParse(candidate);
  if (!resolved.success) problems.push(...resolved.error.issues.map(issueText));

  const readSecret = (path: string | undefined, what: string): string | undefined => {
    if (!path) return undefined;
    try {
      return readFileSync(path, "utf8").trim();
    } catch (error) {
      problems.push(`${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      return undefined;
    }
  };
  const passwordFile = pick(str("passwordFile"), env.MQTT_PASSWORD_FILE, file.passwordFile, undefined);
  const password = readSecret(passwordFile, "password file") ?? env.MQTT_PASSWORD;
  const tokenFile = pick(str("tokenFile"), env.MQTT_TOKEN_FILE, file.tokenFile, undefined);
  if (tokenFile) readSecret(tokenFile, "token file");
  const files = {
    caFile: pick(str("caFile"), env.MQTT_CA_FILE, file.caFile, undefined),
    certFile: pick(str("certFile"), env.MQTT_CERT_FILE, file.certFile, undefined),
    keyFile: pick(str("keyFile"), env.MQTT_KEY_FILE, file.keyFile, undefined),
  };
  for (const [name, path] of Object.entries(files)) if (path) readSecret(path, name.replace("File", " file"));
  if (Boolean(files.certFile) !== Boolean(files.keyFile)) problems.push("cert file and key file go together");
  const allowInsecure =
    Boolean(flags.allowInsecure) || env.TELEMETRY_ALLOW_INSECURE === "true" || file.allowInsecure === true;

  if (resolved.success) {
    const url = new URL(resolved.data.broker);
    const plain = url.protocol === "mqtt:" || url.protocol === "ws:";
    if (plain && (password || tokenFile) && !LOCAL.test(url.hostname) && !allowInsecure) {
      problems.push(
        `refusing to send a password in clear text to ${url.hostname}: use mqtts:// or pass --allow-insecure`,
      );
    }
  }
  if (problems.length > 0 || !resolved.success) throw new ConfigError(problems);
  const data = resolved.data;
  return {
    broker: data.broker,
    host: data.host,
    intervalMs: Math.round(data.interval * 1000),
    jitterMs: Math.round(data.jitter * 1000),
    once: Boolean(flags.once),
    mqttVersion: data.mqttVersion as 4 | 5,
    clientId: pick(str("clientId"), env.MQTT_CLIENT_ID, file.clientId, `telemetry-agent-${data.host}`),
    username: pick(str("username"), env.MQTT_USERNAME, file.username, undefined),
    password,
    tokenFile,
    ...files,
    allowInsecure,
    bufferMaxMessages: data.bufferMaxMessages,
    bufferMaxBytes: data.bufferMaxBytes,
    spoolDir: pick(str("spoolDir"), env.TELEMETRY_SPOOL_DIR || undefined, file.spoolDir, undefined),
    spoolMaxBytes: data.spoolMaxBytes,
    procRoot: pick(undefined, env.TELEMETRY_PROC_ROOT, file.procRoot, "/proc"),
    sysRoot: pick(undefined, env.TELEMETRY_SYS_ROOT, file.sysRoot, "/sys"),
    etcRoot: pick(undefined, env.TELEMETRY_ETC_ROOT, file.etcRoot, "/etc"),
    logLevel: data.logLevel,
  };
}

function issueText(issue: z.ZodIssue): string {
  const path = issue.path.join(".");
  return path && !issue.message.startsWith(path) ? `${path}: ${issue.message}` : issue.message;
}

/** The process's own flags and environment: the one place the agent reads them. */
export function loadAgentConfigFromProcess(): AgentConfig {
  return loadAgentConfig(withoutLeadingDashes(process.argv.slice(2)), process.env);
}
