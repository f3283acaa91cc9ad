import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createHash } from "node:crypto";
import {
  Duration,
  LogLevel,
  Namespace,
  NAMESPACE_INVALID,
  Port,
  Type,
  loadOptions,
  type ConfigOf,
  type ProgramOptions,
} from "@cluster-telemetry/contract/config";

const root = resolve(import.meta.dirname, "..", "..");
/** One per checkout, so two clones never share data or stop each other's services. */
const defaultDataDir = join(
  tmpdir(),
  `cluster-telemetry-${createHash("sha1").update(root).digest("hex").slice(0, 10)}`,
  "local",
);

/** What `npm start -- <flags>` can change, each declared once: parsing, --help and README.md's table. */
export const START_OPTIONS = {
  intervalMs: {
    schema: Duration({ minimum: "1s" }),
    description: "the agent's sampling interval",
    flag: "--interval",
    env: "TELEMETRY_INTERVAL",
    default: 5000,
  },
  logLevel: {
    schema: LogLevel(),
    description: "log level of the ingest and the agent",
    placeholder: "level",
    env: "LOG_LEVEL",
    default: "warn",
  },
  httpPort: {
    schema: Port(),
    description: "the ingest's /healthz, /readyz, /metrics",
    placeholder: "port",
    env: "INGEST_HTTP_PORT",
    defaultText: "9464, or a free port",
  },
  livePort: {
    schema: Port(),
    description: "the live view's page",
    placeholder: "port",
    env: "LIVE_PORT",
    defaultText: "8080, or a free port",
  },
  namespace: {
    schema: Namespace(),
    invalid: NAMESPACE_INVALID,
    description: "data stream namespace",
    placeholder: "name",
    env: "INGEST_NAMESPACE",
    default: "default",
  },
  dataDir: {
    schema: Type.String({ minLength: 1 }),
    description: "state file and the services' data",
    placeholder: "path",
    env: "TELEMETRY_DATA_DIR",
    default: defaultDataDir,
    defaultText: "per checkout, in the temp dir",
  },
  fresh: { schema: Type.Boolean(), description: "wipe the data of earlier runs first", default: false },
  check: {
    schema: Type.Boolean(),
    description: "stop once the first documents are searchable",
    default: false,
  },
} satisfies ProgramOptions["options"];

export const START_PROGRAM: ProgramOptions<typeof START_OPTIONS> = {
  name: "npm start --",
  description:
    "Runs Mosquitto, Redis and Elasticsearch (or uses MQTT_URL, REDIS_URL, ELASTICSEARCH_URL), the live " +
    "view, the ingest and an agent reporting this machine. Ctrl-C stops everything it started.",
  options: START_OPTIONS,
};

/** What `npm start -- <flags>` can change; the interval in milliseconds. */
export type StartOptions = ConfigOf<typeof START_OPTIONS>;

/** Parses the flags; a flag not given falls back to its environment variable, then its default. */
export function parseStartOptions(argv: readonly string[], env: NodeJS.ProcessEnv): StartOptions {
  const options = loadOptions(START_PROGRAM, argv, env);
  return { ...options, dataDir: resolve(options.dataDir) };
}
