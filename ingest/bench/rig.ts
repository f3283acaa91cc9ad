// What the capacity benchmark and the soak share: their own services from the test harness, the
// built programs as child processes, and the figures read off them (CPU time, the ingest's
// metrics, Redis command counts, Elasticsearch counts).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { cpus, totalmem, release } from "node:os";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Client } from "@elastic/elasticsearch";
import { Redis } from "ioredis";
import type { SimulationSummary } from "telemetry-agent/simulate";
import { ElasticsearchService, MosquittoService, RedisService } from "@cluster-telemetry/dev-stack";
import { telemetryStreamsPattern } from "@cluster-telemetry/contract";

export const root = resolve(import.meta.dirname, "..", "..");
const TICKS = 100; // USER_HZ

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** CPU time of a process in seconds, in user space and in the kernel; zeros once it is gone. */
export function cpuSplit(pid: number | undefined): { user: number; system: number } {
  if (!pid) return { user: 0, system: 0 };
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return { user: Number(f[11]) / TICKS, system: Number(f[12]) / TICKS };
  } catch {
    return { user: 0, system: 0 };
  }
}

/** utime + stime of a process in seconds; 0 once it is gone. */
export function cpuSeconds(pid: number | undefined): number {
  const { user, system } = cpuSplit(pid);
  return user + system;
}

export function rssMb(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return Number(m?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  return `${cpus().length} × ${cpu.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Linux ${release()}, Node.js ${process.version}`;
}

export interface Services {
  broker: MosquittoService;
  redis: RedisService;
  elasticsearch: ElasticsearchService;
  es: Client;
  redisClient: Redis;
}

/** Own services, not the shared test ones: the figures must not include anyone else's load. */
export async function startServices(): Promise<Services> {
  const [broker, redis, elasticsearch] = await Promise.all([
    MosquittoService.start({ persistence: "periodic" }),
    RedisService.start(),
    ElasticsearchService.start({ heap: "2g" }),
  ]);
  return {
    broker,
    redis,
    elasticsearch,
    es: new Client({ node: elasticsearch.url, requestTimeout: 120_000 }),
    redisClient: new Redis(redis.url).on("error", () => undefined),
  };
}

export async function stopServices(s: Services): Promise<void> {
  s.redisClient.disconnect();
  await s.es.close();
  await Promise.all([s.broker.process.stop(), s.redis.process.stop(), s.elasticsearch.process.stop()]);
}

/** The bundled programs (npm run build): what a deployment runs, without tsx's overhead. */
export function build(): void {
  execFileSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: "inherit" });
}

export interface RunningIngest {
  child: ChildProcess;
  metricsUrl: string;
  output: () => string;
}

export async function startIngest(
  s: Services,
  namespace: string,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<RunningIngest> {
  const child = spawn(process.execPath, ["ingest/dist/telemetry-ingest.js", "--http-port", "0"], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      MQTT_URL: s.broker.url,
      REDIS_URL: s.redis.url,
      ELASTICSEARCH_URL: s.elasticsearch.url,
      INGEST_NAMESPACE: namespace,
      INGEST_REDIS_PREFIX: namespace,
      MQTT_CLIENT_ID: `ingest-${namespace}`,
      LOG_LEVEL: "info",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout!.on("data", (d: Buffer) => (text = (text + d.toString()).slice(-200_000)));
  child.stderr!.on("data", (d: Buffer) => (text = (text + d.toString()).slice(-200_000)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const port = /"event":"ingest_started".*?"httpPort":(\d+)/.exec(text)?.[1];
    if (port) return { child, metricsUrl: `http://127.0.0.1:${port}/metrics`, output: () => text };
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`the ingest did not start:\n${text}`);
    await sleep(100);
  }
}

/** The ingest's counters and gauges, from its Prometheus endpoint. */
export async function scrape(url: string): Promise<Map<string, number>> {
  const values = new Map<string, number>();
  try {
    const text = await (await fetch(url)).text();
    for (const line of text.split("\n")) {
      if (line.startsWith("#") || !line.trim()) continue;
      const space = line.lastIndexOf(" ");
      const name = line.slice(0, space);
      values.set(name, (values.get(name) ?? 0) + Number(line.slice(space + 1)));
    }
  } catch {
    /* the ingest is restarting */
  }
  return values;
}

export const metric = (m: Map<string, number>, name: string) => m.get(`telemetry_ingest_${name}`) ?? 0;

/** Every command Redis has executed since it started (INFO commandstats). */
export async function redisCommands(redis: Redis): Promise<number> {
  const info = await redis.info("commandstats");
  let calls = 0;
  for (const m of info.matchAll(/calls=(\d+)/g)) calls += Number(m[1]);
  return calls;
}

export async function redisMemory(redis: Redis): Promise<number> {
  const info = await redis.info("memory");
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

/** Documents in the namespace's telemetry data streams (all metrics and status). */
export async function indexedCount(es: Client, namespace: string): Promise<number> {
  const index = telemetryStreamsPattern(namespace);
  await es.indices.refresh({ index }).catch(() => undefined);
  return (await es.count({ index }).catch(() => ({ count: 0 }))).count;
}

export interface FleetRun {
  child: ChildProcess;
  summary: Promise<SimulationSummary>;
}

/** `telemetry-agent simulate` as its own process: the load generator must not share our event loop. */
export function simulate(
  brokerUrl: string,
  options: {
    hosts: number;
    seconds: number;
    prefix: string;
    seed: number;
    connections?: number;
    offlineRate?: number;
  },
): FleetRun {
  const child = spawn(
    process.execPath,
    [
      "agent/dist/telemetry-agent.js",
      "simulate",
      "--broker",
      brokerUrl,
      "--hosts",
      String(options.hosts),
      "--interval",
      "1",
      "--duration",
      String(options.seconds),
      "--prefix",
      options.prefix,
      "--seed",
      String(options.seed),
      "--connections",
      String(options.connections ?? 20),
      "--offline-rate",
      String(options.offlineRate ?? 0.0005),
      "--log-level",
      "error",
    ],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH } },
  );
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const summary = new Promise<SimulationSummary>((resolveSummary, reject) =>
    child.once("exit", () => {
      const line = out.split("\n").find((l) => l.startsWith('{"event":"simulation_summary"'));
      if (line) resolveSummary(JSON.parse(line) as SimulationSummary);
      else reject(new Error(`the simulator printed no summary:\n${out}`));
    }),
  );
  return { child, summary };
}

/** Waits until the ingest has nothing staged or queued and Elasticsearch holds `expected` documents. */
export async function drained(
  s: Services,
  ingestMetricsUrl: string,
  namespace: string,
  expected: number,
  timeoutMs = 300_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let count = 0;
  while (Date.now() < deadline) {
    const depth = metric(await scrape(ingestMetricsUrl), "queue_depth");
    count = await indexedCount(s.es, namespace);
    if (depth === 0 && count >= expected) return count;
    await sleep(500);
  }
  return count;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}
