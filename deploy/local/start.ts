// `npm start`: the whole pipeline on this machine. Brings up Mosquitto, Redis and Elasticsearch
// through the test harness (or uses MQTT_URL, REDIS_URL, ELASTICSEARCH_URL when set), starts the
// children below, shows where the data lands, and on Ctrl-C, SIGINT or SIGTERM stops everything
// it started. `npm start -- --help` lists the flags.
//
//   npm start ── services (own process groups, recorded in <data dir>/services.json)
//       │     └─ children (own process groups, recorded in <data dir>/run.json), restarted when they die
//       └─ reaper: ends both when npm start dies without stopping them (kill -9)
//
// Stopping is bounded: children get CHILD_GRACE_MS after SIGTERM, services SERVICE_GRACE_MS, both
// then SIGKILL; a second Ctrl-C kills at once.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { Client } from "@elastic/elasticsearch";
import { configuredOrExit } from "@cluster-telemetry/contract/config";
import { loadOrCreateToken } from "../../live/src/http/auth.ts";
import { freePort, isListening } from "@cluster-telemetry/dev-stack";
import { ServiceStartError } from "@cluster-telemetry/dev-stack";
import { SERVICE_ENV, down, recordedPids, up, type StackService } from "@cluster-telemetry/dev-stack";
import { telemetryStreams, type StreamCount } from "./data-streams.ts";
import { claimRun, endGroups, releaseRun, updateRun, type RunRecord } from "./run-state.ts";
import { parseStartOptions, type StartOptions } from "./start-options.ts";
import { Supervisor, type ChildSpec } from "./supervisor.ts";

const CHILD_GRACE_MS = 15_000;
const SERVICE_GRACE_MS = 10_000;
/** The longest a stop takes: the children's grace, then the services' (stopped in parallel). */
export const STOP_BOUND_S = (CHILD_GRACE_MS + SERVICE_GRACE_MS) / 1000 + 5;
const DEFAULT_HTTP_PORT = 9464;
const DEFAULT_LIVE_PORT = 8080;

const say = (line: string) => process.stderr.write(`npm start: ${line}\n`);

/**
 * The programs `npm start` runs, in the order they start and are listed. Another program is one
 * more entry here; a URL it serves goes into `urls` (printed first when `first` is set).
 */
function children(
  options: StartOptions,
  ports: { http: number; live: number },
  liveToken: { file: string; token: string },
): Array<ChildSpec & { urls: string[] }> {
  const httpPort = ports.http;
  return [
    {
      // First: the one URL a newcomer opens. The token signs the browser in once (then a cookie);
      // it lives in the data directory, readable by this user only.
      name: "live",
      entry: "live/src/main.ts",
      args: [
        "--port",
        String(ports.live),
        "--auth-token-file",
        liveToken.file,
        "--namespace",
        options.namespace,
      ],
      urls: [`live view:     http://127.0.0.1:${ports.live}/?token=${liveToken.token}`],
    },
    {
      name: "ingest",
      entry: "ingest/src/main.ts",
      args: ["--http-port", String(httpPort)],
      urls: [
        `ingest ready:  http://127.0.0.1:${httpPort}/readyz`,
        `ingest stats:  http://127.0.0.1:${httpPort}/metrics`,
      ],
    },
    {
      name: "agent",
      entry: "agent/src/main.ts",
      args: ["--interval", String(options.interval)],
      urls: [],
    },
  ];
}

async function main(): Promise<number> {
  const options = configuredOrExit("npm start", () => parseStartOptions(process.argv.slice(2)));
  const dir = options.dataDir;
  const record: RunRecord = { pid: process.pid, startedAt: new Date().toISOString(), children: {} };
  const claim = await claimRun(dir, record);
  if (!claim.ok) {
    say(
      `already running here (pid ${claim.owner.pid}, since ${claim.owner.startedAt}); ` +
        `its state is in ${join(dir, "run.json")} and the services' logs under ${dir}. ` +
        `Stop it with Ctrl-C in its terminal or \`kill ${claim.owner.pid}\`, or give this one another --data-dir.`,
    );
    return 1;
  }
  if (claim.ended.length > 0) say(`ended what an earlier npm start left running: ${claim.ended.join(", ")}`);
  // Holds a pipe to the reaper: the pipe closes when this process dies, however it dies.
  const reaper = spawn(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "reaper.ts"), dir, String(process.pid)],
    // From the repository root, where tsx resolves, whatever directory npm start was run from.
    { cwd: join(import.meta.dirname, "..", ".."), detached: true, stdio: ["pipe", "ignore", "ignore"] },
  );
  reaper.unref();
  (reaper.stdin as unknown as { unref(): void }).unref();

  // Set once they exist; a stop can come at any moment, before either.
  const running: { supervisor?: Supervisor; es?: Client } = {};
  let stopping = false;
  let stopAskedAt = 0;
  /** A second Ctrl-C: no more waiting. */
  const kill = async (): Promise<never> => {
    running.supervisor?.kill();
    await endGroups(
      recordedPids(dir).map((p) => p.pid),
      0,
    );
    releaseRun(dir);
    process.exit(130);
  };
  const stop = async (code: number): Promise<never> => {
    if (stopping) return new Promise<never>(() => undefined);
    stopAskedAt = Date.now();
    stopping = true;
    say(`stopping (at most ${STOP_BOUND_S} s; Ctrl-C again to kill at once)`);
    await running.supervisor?.stop();
    await running.es?.close().catch(() => undefined);
    const stopped = await down(undefined, { dir, graceMs: SERVICE_GRACE_MS });
    if (stopped.length > 0) say(`stopped ${stopped.join(", ")}`);
    releaseRun(dir);
    process.exit(code);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
    process.on(signal, () => {
      // A terminal's Ctrl-C reaches npm, which forwards it, and this process directly: the same
      // keypress arrives twice within milliseconds. Only a later one means "now".
      if (!stopping) void stop(0);
      else if (Date.now() - stopAskedAt > 1000) void kill();
    });
  // npm killed with -9: this process is re-parented. Nobody is left to press Ctrl-C, so stop.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent && !stopping) {
      say(`the parent process (pid ${parent}) is gone; stopping`);
      void stop(1);
    }
  }, 1000).unref();

  const toStart = (["mosquitto", "redis", "elasticsearch"] as const).filter(
    (name) => !process.env[SERVICE_ENV[name]],
  );
  const data = options.fresh ? "wiped (--fresh)" : "kept from earlier runs (--fresh wipes it)";
  say(
    toStart.length === 0
      ? "using the services named by MQTT_URL, REDIS_URL and ELASTICSEARCH_URL"
      : `starting ${toStart.join(", ")}${toStart.includes("elasticsearch") ? " (Elasticsearch takes up to a minute)" : ""}; ` +
          `their data is in ${dir}, ${data}`,
  );
  let services: StackService[];
  try {
    services = await up(process.env, { dir, keepData: !options.fresh });
  } catch (error) {
    const errors = error instanceof AggregateError ? error.errors : [error];
    for (const e of errors) {
      if (e instanceof ServiceStartError) process.stderr.write(`${e.logTail}\n`);
      say(e instanceof Error ? e.message.split("\n")[0]! : String(e));
    }
    const pids = new Map(recordedPids(dir).map((p) => [p.name, p.pid]));
    const stopped = await down(undefined, { dir, graceMs: SERVICE_GRACE_MS });
    say(
      stopped.length > 0
        ? `stopped ${stopped.map((name) => `${name} (pid ${pids.get(name)})`).join(" and ")}, which this start had started; nothing is left running`
        : "nothing was left running",
    );
    releaseRun(dir);
    return 1;
  }
  const url = (name: string) => services.find((s) => s.name === name)!.url;
  const portOr = async (asked: number | undefined, preferred: number) =>
    asked ?? ((await isListening(preferred)) ? await freePort() : preferred);
  const ports = {
    http: await portOr(options.httpPort, DEFAULT_HTTP_PORT),
    live: await portOr(options.livePort, DEFAULT_LIVE_PORT),
  };
  const liveTokenFile = join(dir, "live-token");
  const specs = children(options, ports, { file: liveTokenFile, token: loadOrCreateToken(liveTokenFile) });
  const supervisor = new Supervisor({
    env: {
      ...process.env,
      MQTT_URL: url("mosquitto"),
      REDIS_URL: url("redis"),
      ELASTICSEARCH_URL: url("elasticsearch"),
      LOG_LEVEL: options.logLevel,
      INGEST_NAMESPACE: options.namespace,
    },
    stopGraceMs: CHILD_GRACE_MS,
    report: say,
    onPids: (pids) => updateRun(dir, { ...record, children: pids }),
    onGiveUp: () => void stop(1),
  });
  running.supervisor = supervisor;
  supervisor.start(specs);

  const es = new Client({ node: url("elasticsearch") });
  running.es = es;
  const streams = async (): Promise<StreamCount[]> => telemetryStreams(es, options.namespace).catch(() => []);
  const total = (list: StreamCount[]) => list.reduce((sum, s) => sum + s.count, 0);
  const deadline = Date.now() + 120_000;
  let current = await streams();
  while (total(current) === 0) {
    if (Date.now() > deadline) {
      say("no documents reached Elasticsearch within 2 minutes");
      return stop(1);
    }
    await new Promise((r) => setTimeout(r, 1000));
    current = await streams();
  }
  const { port } = new URL(url("mosquitto"));
  const streamLines = (list: StreamCount[]) => list.map((s) => `    ${s.name}  ${s.count} documents`);
  process.stdout.write(
    [
      "cluster-telemetry is running.",
      ...specs.flatMap((s) => s.urls).map((u) => `  ${u}`),
      `  Elasticsearch: ${url("elasticsearch")}`,
      `  MQTT broker:   ${url("mosquitto")}  (watch: mosquitto_sub -h 127.0.0.1 -p ${port} -v -t 'telemetry/v2/#')`,
      "  data streams:",
      ...streamLines(current),
      `  search:        curl '${url("elasticsearch")}/${current[0]!.name}/_search?size=1&sort=@timestamp:desc'`,
      options.check ? "" : `Ctrl-C stops everything started here (within ${STOP_BOUND_S} s).`,
      "",
    ].join("\n"),
  );
  if (options.check) {
    process.stdout.write(`documents: ${total(current)}\n`);
    return stop(0);
  }
  let known = current.map((s) => s.name).join();
  for (;;) {
    await new Promise((r) => setTimeout(r, 5000));
    current = await streams();
    if (current.map((s) => s.name).join() !== known) {
      known = current.map((s) => s.name).join();
      process.stdout.write(["data streams:", ...streamLines(current), ""].join("\n"));
    }
    process.stdout.write(`documents: ${total(current)}\n`);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say((error as Error).message);
    process.exit(1);
  },
);
