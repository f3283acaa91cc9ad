import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ElasticsearchService } from "./elasticsearch.ts";
import { MosquittoService } from "./mosquitto.ts";
import { RedisService } from "./redis.ts";
import { pidAlive, type ServiceProcess } from "./service-process.ts";

/** The environment variables through which the stack is handed to tests and programs. */
export const SERVICE_ENV = {
  mosquitto: "MQTT_URL",
  redis: "REDIS_URL",
  elasticsearch: "ELASTICSEARCH_URL",
} as const;
export type ServiceName = keyof typeof SERVICE_ENV;
const NAMES = Object.keys(SERVICE_ENV) as ServiceName[];

interface StartedRecord {
  pid: number;
  port: number;
  dir: string;
}
type State = Partial<Record<ServiceName, StartedRecord>>;

export interface StackService {
  name: ServiceName;
  url: string;
  /** "external": taken from the environment; "reused": started earlier by the harness; "started": now. */
  origin: "external" | "reused" | "started";
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Per checkout, outside the repository, so two clones never share or stop each other's services. */
export const stateDir = join(
  tmpdir(),
  `cluster-telemetry-${createHash("sha1").update(repoRoot).digest("hex").slice(0, 10)}`,
);
const stateFileIn = (dir: string) => join(dir, "services.json");

/** Where `up` keeps its state and the services' data, and whether it keeps data from an earlier run. */
export interface StackOptions {
  /** State file and one data directory per service. @defaultValue the checkout's temp directory */
  dir?: string;
  /** Start a service on the data it left last time instead of an empty directory. @defaultValue false */
  keepData?: boolean;
  /** How long each service may take to stop before it is killed, in ms. @defaultValue 30000 */
  graceMs?: number;
}

function readState(dir: string): State {
  const stateFile = stateFileIn(dir);
  if (!existsSync(stateFile)) return {};
  try {
    return JSON.parse(readFileSync(stateFile, "utf8")) as State;
  } catch {
    return {};
  }
}

function writeState(dir: string, state: State): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(stateFileIn(dir), JSON.stringify(state, null, 2));
}

function prepare(name: ServiceName, port: number, dir: string): { url: string; process: ServiceProcess } {
  switch (name) {
    case "mosquitto":
      return MosquittoService.prepare({ dir }, port);
    case "redis":
      return RedisService.prepare({ dir }, port);
    case "elasticsearch":
      return ElasticsearchService.prepare({ dir }, port);
  }
}

async function startOne(
  name: ServiceName,
  options: StackOptions,
  record: (started: StartedRecord) => void,
): Promise<StartedRecord & { url: string }> {
  const { freePort } = await import("./free-port.ts");
  const port = await freePort();
  const dir = join(options.dir ?? stateDir, name);
  if (!options.keepData) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const service = prepare(name, port, dir);
  // Recorded as soon as it exists, so that whoever ends this run's leftovers finds it even mid-start.
  await service.process.start((pid) => record({ pid, port, dir }));
  return { pid: service.process.pid ?? 0, port, dir, url: service.url };
}

/**
 * Starts (or reuses) Mosquitto, Redis and Elasticsearch. Idempotent: services recorded as running
 * are reused, and a URL in the environment replaces the service entirely.
 */
export async function up(
  env: NodeJS.ProcessEnv = process.env,
  options: StackOptions = {},
): Promise<StackService[]> {
  const dir = options.dir ?? stateDir;
  const state = readState(dir);
  const services: StackService[] = [];
  // Elasticsearch takes longest; start it alongside the others rather than after them.
  const results = await Promise.allSettled(
    NAMES.map(async (name): Promise<StackService> => {
      const external = env[SERVICE_ENV[name]];
      if (external) return { name, url: external, origin: "external" };
      const record = state[name];
      if (record && pidAlive(record.pid)) {
        const { url } = prepare(name, record.port, record.dir);
        return { name, url, origin: "reused" };
      }
      const started = await startOne(name, options, (record) => {
        state[name] = record;
        writeState(dir, state);
      });
      return { name, url: started.url, origin: "started" };
    }),
  );
  writeState(dir, state);
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failures.length > 0) {
    throw new AggregateError(
      failures.map((f) => f.reason as Error),
      failures.map((f) => (f.reason as Error).message).join("\n"),
    );
  }
  for (const r of results) if (r.status === "fulfilled") services.push(r.value);
  return services;
}

/** Stops the services this harness started (never an external one) and forgets them. */
export async function down(only?: ServiceName[], options: StackOptions = {}): Promise<ServiceName[]> {
  const dir = options.dir ?? stateDir;
  const state = readState(dir);
  const running = (only ?? NAMES).filter((name) => state[name] && pidAlive(state[name].pid));
  // In parallel: the time to stop everything is the slowest service's, not the sum.
  await Promise.all(
    running.map(async (name) => {
      const record = state[name]!;
      const { process } = prepare(name, record.port, record.dir);
      process.pid = record.pid;
      await process.stop(options.graceMs ?? 30_000);
    }),
  );
  for (const name of only ?? NAMES) delete state[name];
  writeState(dir, state);
  return running;
}

/** The pids recorded as started in `dir`: what must not outlive the run that started them. */
export function recordedPids(dir: string = stateDir): Array<{ name: ServiceName; pid: number }> {
  const state = readState(dir);
  return NAMES.flatMap((name) => (state[name] ? [{ name, pid: state[name].pid }] : []));
}

export function status(env: NodeJS.ProcessEnv = process.env): string[] {
  const state = readState(stateDir);
  return NAMES.map((name) => {
    const external = env[SERVICE_ENV[name]];
    if (external) return `${name}: external at ${external} (${SERVICE_ENV[name]})`;
    const record = state[name];
    if (record && pidAlive(record.pid)) {
      return `${name}: running, pid ${record.pid}, port ${record.port}, log ${join(record.dir, `${name}.log`)}`;
    }
    return `${name}: stopped`;
  });
}

export function envLines(services: StackService[]): string[] {
  return services.map((s) => `${SERVICE_ENV[s.name]}=${s.url}`);
}
