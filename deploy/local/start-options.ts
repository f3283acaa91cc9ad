import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { Command, Option } from "commander";
import { ConfigError, parseFlags } from "@cluster-telemetry/contract/config";

/** What `npm start -- <flags>` can change; each flag also reads the environment variable named. */
export interface StartOptions {
  /** The agent's sampling interval in seconds (env TELEMETRY_INTERVAL). @defaultValue 5 */
  interval: number;
  /** Log level of the ingest and the agent (env LOG_LEVEL). @defaultValue "warn" */
  logLevel: string;
  /** Port of the ingest's /healthz, /readyz, /metrics (env INGEST_HTTP_PORT). @defaultValue 9464, or a free port when taken */
  httpPort: number | undefined;
  /** Port of telemetry-live's page (env LIVE_PORT). @defaultValue 8080, or a free port when taken */
  livePort: number | undefined;
  /** Data stream namespace (env INGEST_NAMESPACE). @defaultValue "default" */
  namespace: string;
  /** State file and the services' data (env TELEMETRY_DATA_DIR). @defaultValue a directory per checkout under the system temp dir */
  dataDir: string;
  /** Wipe the services' data from earlier runs before starting. @defaultValue false */
  fresh: boolean;
  /** Stop by itself once the first documents are searchable. @defaultValue false */
  check: boolean;
}

const root = resolve(import.meta.dirname, "..", "..");
/** One per checkout, so two clones never share data or stop each other's services. */
const defaultDataDir = join(
  tmpdir(),
  `cluster-telemetry-${createHash("sha1").update(root).digest("hex").slice(0, 10)}`,
  "local",
);

/** Parses the flags; a flag not given falls back to its environment variable (commander reads process.env). */
export function parseStartOptions(argv: string[]): StartOptions {
  const program = new Command("npm start --")
    .description(
      "Runs Mosquitto, Redis and Elasticsearch (or uses MQTT_URL, REDIS_URL, ELASTICSEARCH_URL), the live " +
        "view, the ingest and an agent reporting this machine. Ctrl-C stops everything it started.",
    )
    .addOption(
      new Option("--interval <seconds>", "agent sampling interval").env("TELEMETRY_INTERVAL").default("5"),
    )
    .addOption(
      new Option("--log-level <level>", "log level of the ingest and the agent")
        .env("LOG_LEVEL")
        .choices(["fatal", "error", "warn", "info", "debug", "trace"])
        .default("warn"),
    )
    .addOption(
      new Option(
        "--http-port <port>",
        "ingest's /healthz, /readyz, /metrics port (default: 9464, or a free one when taken)",
      ).env("INGEST_HTTP_PORT"),
    )
    .addOption(
      new Option(
        "--live-port <port>",
        "telemetry-live's page port (default: 8080, or a free one when taken)",
      ).env("LIVE_PORT"),
    )
    .addOption(
      new Option("--namespace <name>", "data stream namespace").env("INGEST_NAMESPACE").default("default"),
    )
    .addOption(
      new Option("--data-dir <path>", "state file and the services' data")
        .env("TELEMETRY_DATA_DIR")
        .default(defaultDataDir),
    )
    .option("--fresh", "wipe the data of earlier runs before starting", false)
    .option("--check", "stop once the first documents are searchable", false);
  const flags = parseFlags<Record<string, string | boolean | undefined>>(program, argv);
  const problems: string[] = [];
  const interval = Number(flags.interval);
  if (!Number.isFinite(interval) || interval < 1)
    problems.push("--interval must be a number of seconds, at least 1");
  const httpPort = flags.httpPort === undefined ? undefined : Number(flags.httpPort);
  const livePort = flags.livePort === undefined ? undefined : Number(flags.livePort);
  for (const [flag, port] of [
    ["--http-port", httpPort],
    ["--live-port", livePort],
  ] as const)
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65_535))
      problems.push(`${flag} must be a port number (0 picks a free one)`);
  const namespace = String(flags.namespace);
  if (!/^[a-z0-9][a-z0-9_]*$/.test(namespace))
    problems.push("--namespace must be lower-case letters, digits and _");
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    interval,
    logLevel: String(flags.logLevel),
    httpPort,
    livePort,
    namespace,
    dataDir: resolve(String(flags.dataDir)),
    fresh: Boolean(flags.fresh),
    check: Boolean(flags.check),
  };
}
