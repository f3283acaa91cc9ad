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
const stateFile = join(stateDir, "services.json");

function readState(): State {
  if (!existsSync(stateFile)) return {};
  try {
    return JSON.parse(readFileSync(stateFile, "utf8")) as State;
  } catch {
    return {};
  }
}

function writeState(state: State): void {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
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

async function startOne(name: ServiceName): Promise<StartedRecord & { url: string }> {
  const { freePort } = await import("./free-port.ts");
  const port = await freePort();
  const dir = join(stateDir, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const service = prepare(name, port, dir);
  await service.process.start();
  return { pid: service.process.pid ?? 0, port, dir, url: service.url };
}

/**
 * Starts (or reuses) Mosquitto, Redis and Elasticsearch. Idempotent: services recorded as running
 * are reused, and a URL in the environment replaces the service entirely.
 */
export async function up(env: NodeJS.ProcessEnv = process.env): Promise<StackService[]> {
  const state = readState();
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
      const started = await startOne(name);
      state[name] = { pid: started.pid, port: started.port, dir: started.dir };
      writeState(state);
      return { name, url: started.url, origin: "started" };
    }),
  );
  writeState(state);
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
export async function down(only?: ServiceName[]): Promise<ServiceName[]> {
  const state = readState();
  const stopped: ServiceName[] = [];
  for (const name of only ?? NAMES) {
    const record = state[name];
    if (!record) continue;
    if (pidAlive(record.pid)) {
      const { process } = prepare(name, record.port, record.dir);
      process.pid = record.pid;
      await process.stop(30_000);
      stopped.push(name);
    }
    delete state[name];
  }
  writeState(state);
  return stopped;
}

export function status(env: NodeJS.ProcessEnv = process.env): string[] {
  const state = readState();
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
