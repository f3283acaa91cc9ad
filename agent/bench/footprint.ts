// npm run bench:agent [-- --seconds 30 --calls 40 --spool-seconds 60]
//
// What the agent costs a node, beside collectd (the usual C daemon for the job) and a bare Node.js
// process publishing the same messages with mqtt.js, all in the same run:
//   1. the per-sample readers: systeminformation's currentLoad()/cpuTemperature() against the
//      agent's direct /proc and /sys readers (CPU time including spawned children, and how long
//      each call holds the caller);
//   2. what each part of the agent's import graph adds to a Node.js process (import-costs.ts);
//   3. the daemons side by side at a 1 s interval publishing to a local Mosquitto: the installed
//      bundle (built as the .deb, run with its unit's ExecStart, and with other V8 flags), bare
//      Node.js with mqtt.js, Node.js alone, collectd: CPU time per interval, steady and peak RSS;
//   4. the disk spool during a broker outage at the default 10 s interval: writes and fsyncs per
//      hour (strace), for an operator on an SD card.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import mqtt from "mqtt";
import si from "systeminformation";
import { build } from "esbuild";
import { AGENT_MODULE_BUILD, REQUIRE_SHIM } from "../../deploy/package/agent-bundle.ts";
import { buildAgentPackage } from "../../deploy/package/build-agent-package.ts";
import { INSTALLED } from "../../deploy/package/agent-package-layout.ts";
import { CpuCollector } from "../src/collectors/cpu.ts";
import { TemperatureCollector } from "../src/collectors/temperature.ts";
import { MosquittoService, ensureDebianBinary } from "@cluster-telemetry/dev-stack";
import { measureImportCosts } from "./import-costs.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "30" },
    calls: { type: "string", default: "40" },
    "spool-seconds": { type: "string", default: "60" },
  },
});
const seconds = Number(values.seconds);
const spoolSeconds = Number(values["spool-seconds"]);
const calls = Number(values.calls);
const root = resolve(import.meta.dirname, "..", "..");
const TICKS = 100; // USER_HZ

/** CPU time of a process (utime+stime) and of its reaped children (cutime+cstime), in ms, read at once. */
function cpuTimes(pid: number | "self"): { own: number; children: number } {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  const ms = (a: number, b: number) => ((Number(f[a]) + Number(f[b])) * 1000) / TICKS;
  return { own: ms(11, 12), children: ms(13, 14) };
}
const cpuMs = (pid: number) => cpuTimes(pid).own;

function statusKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0);
}

interface ReaderFigures {
  name: string;
  cpuUsPerCall: number;
  wallUsPerCall: number;
  /** The longest the event loop stood still while these calls ran. */
  blockedMs: number;
}

/**
 * Calls spaced 250 ms apart: systeminformation serves currentLoad() from a cache for 200 ms, and a
 * sampler calls once per interval, so back-to-back calls would measure the cache.
 */
async function measureReader(name: string, call: () => Promise<unknown>): Promise<ReaderFigures> {
  await call(); // warm up lazy requires
  let cpuUs = 0;
  let childMs = 0;
  let wallUs = 0;
  for (let i = 0; i < calls; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const children0 = cpuTimes("self").children;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await call();
    wallUs += Number(process.hrtime.bigint() - t0) / 1000;
    const used = process.cpuUsage(cpu0);
    cpuUs += used.user + used.system;
    childMs += cpuTimes("self").children - children0;
  }
  // A separate pass, since the probe itself costs CPU: the longest gap between two turns of the
  // event loop while a call is in flight is how long the agent could not do anything else.
  let blockedMs = 0;
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 250));
    let last = performance.now();
    let running = true;
    const turn = () => {
      const now = performance.now();
      blockedMs = Math.max(blockedMs, now - last);
      last = now;
      if (running) setImmediate(turn);
    };
    setImmediate(turn);
    await call();
    running = false;
  }
  return { name, cpuUsPerCall: (cpuUs + childMs * 1000) / calls, wallUsPerCall: wallUs / calls, blockedMs };
}

interface DaemonFigures {
  name: string;
  cpuMsPerInterval: number;
  /** The median of one reading per second over the window. */
  rssMb: number;
  peakRssMb: number;
  messagesPerInterval: number;
}

interface Daemon {
  name: string;
  child: ChildProcess;
  /** Topic filter of its messages; none for a process that publishes nothing. */
  filter?: string;
}

/** Measures every daemon over the same window, after a start-up that is not steady state. */
async function measureDaemons(daemons: Daemon[], brokerUrl: string): Promise<DaemonFigures[]> {
  const listener = await mqtt.connectAsync(brokerUrl, { clientId: "bench-listener" });
  const counts = new Map<string, number>();
  const prefixes = daemons.map((d) => [d.name, d.filter?.replace("#", "")] as const);
  listener.on("message", (topic) => {
    for (const [name, prefix] of prefixes)
      if (prefix && topic.startsWith(prefix)) counts.set(name, (counts.get(name) ?? 0) + 1);
  });
  await listener.subscribeAsync(
    daemons.flatMap((d) => (d.filter ? [d.filter] : [])),
    { qos: 0 },
  );
  await new Promise((r) => setTimeout(r, 8000)); // module loading, JIT, first connection
  const start = daemons.map((d) => ({ cpu: cpuMs(d.child.pid!), messages: counts.get(d.name) ?? 0 }));
  const rss = daemons.map((): number[] => []);
  const t0 = Date.now();
  for (let s = 0; s < seconds; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    daemons.forEach((d, i) => rss[i]!.push(statusKb(d.child.pid!, "VmRSS") / 1024));
  }
  const elapsed = (Date.now() - t0) / 1000;
  const figures = daemons.map((d, i) => ({
    name: d.name,
    cpuMsPerInterval: (cpuMs(d.child.pid!) - start[i]!.cpu) / elapsed,
    rssMb: median(rss[i]!),
    peakRssMb: statusKb(d.child.pid!, "VmHWM") / 1024,
    messagesPerInterval: ((counts.get(d.name) ?? 0) - start[i]!.messages) / elapsed,
  }));
  for (const d of daemons) d.child.kill("SIGTERM");
  await listener.endAsync();
  return figures;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** The package's files as a node has them, and the unit's command line. */
async function installedAgent(dir: string): Promise<{ root: string; execStart: string[] }> {
  const built = await buildAgentPackage({ outDir: join(dir, "package"), version: "0.0.0~bench" });
  const root = join(dir, "root");
  execFileSync("dpkg-deb", ["--extract", built.deb, root]);
  const unit = readFileSync(join(root, INSTALLED.unit), "utf8");
  const execStart = /^ExecStart=(.*)$/m.exec(unit)![1]!.split(" ");
  return { root, execStart };
}

/** The unit's command line with the bundle under `root`; `v8Flags` replace the unit's own when given. */
function agentCommand(
  root: string,
  execStart: string[],
  v8Flags: string[] | undefined,
  args: string[],
): string[] {
  const [node, ...rest] = execStart;
  const script = rest.at(-1)!;
  return [node!, ...(v8Flags ?? rest.slice(0, -1)), join(root, script), ...args];
}

interface SpoolFigures {
  seconds: number;
  writes: number;
  fsyncs: number;
  bytes: number;
}

/** The bundle with a spool and no broker, at the default interval, its spool's system calls traced. */
async function measureSpool(root: string, execStart: string[], dir: string): Promise<SpoolFigures> {
  const strace = ensureDebianBinary("strace", "strace");
  const spool = join(dir, "spool");
  const trace = join(dir, "spool.strace");
  const command = agentCommand(root, execStart, undefined, [
    "--broker",
    "mqtt://127.0.0.1:9",
    "--host",
    "bench-spool",
    "--spool-dir",
    spool,
  ]);
  const [node, ...args] = command;
  const agent = spawn(node!, args, { stdio: "ignore", env: { PATH: process.env.PATH, LOG_LEVEL: "warn" } });
  // Attached to the agent, so killing the agent ends both (a traced child would outlive strace).
  const tracer = spawn(
    strace,
    ["-f", "-y", "-e", "trace=write,pwrite64,fsync,fdatasync", "-o", trace, "-p", String(agent.pid)],
    { stdio: "ignore" },
  );
  const traced = new Promise((r) => tracer.once("exit", r));
  await new Promise((r) => setTimeout(r, spoolSeconds * 1000));
  agent.kill("SIGKILL");
  await traced;
  const lines = readFileSync(trace, "utf8")
    .split("\n")
    .filter((l) => l.includes(spool));
  const writes = lines.filter((l) => /\bp?write(64)?\(/.test(l));
  return {
    seconds: spoolSeconds,
    writes: writes.length,
    fsyncs: lines.filter((l) => /\bf(data)?sync\(/.test(l)).length,
    bytes: writes.reduce((n, l) => n + Number(/= (\d+)$/.exec(l)?.[1] ?? 0), 0),
  };
}

function collectdConfig(dir: string, port: number): string {
  return `Interval 1
BaseDir "${dir}"
PIDFile "${dir}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin logfile
<Plugin logfile>
  File "${dir}/collectd.log"
</Plugin>
LoadPlugin cpu
<Plugin cpu>
  ReportByCpu true
  ReportByState true
  ValuesPercentage true
</Plugin>
LoadPlugin load
LoadPlugin memory
LoadPlugin thermal
LoadPlugin mqtt
<Plugin mqtt>
  <Publish "bench">
    Host "127.0.0.1"
    Port ${port}
    ClientId "collectd-bench"
    QoS 1
    Prefix "collectd"
  </Publish>
</Plugin>
`;
}

const fmt = (x: number, digits = 1) => x.toFixed(digits).padStart(10);

const GOAL = { rssMb: 50, cpuMsPerInterval: 1.0 };

/** V8 flags measured beside the unit's own command line. */
const V8_VARIANTS: string[][] = [[], ["--max-semi-space-size=1"], ["--lite-mode", "--max-semi-space-size=1"]];

async function main(): Promise<void> {
  console.log(`bench:agent on ${(await si.cpu()).brand}, ${calls} calls per reader, ${seconds} s per daemon`);

  // 1. Readers.
  const procRoot = "/proc";
  const direct = new CpuCollector({ procRoot, sysRoot: "/sys" });
  await direct.start();
  const fixture = join(root, "test/agent/fixtures/coretemp");
  const directTemperature = new TemperatureCollector({ procRoot, sysRoot: join(fixture, "sys") });
  const here = new TemperatureCollector({ procRoot, sysRoot: "/sys" });
  const readers = [
    await measureReader("si.currentLoad()", () => si.currentLoad()),
    await measureReader("direct /proc/stat (agent)", () => direct.collect()),
    await measureReader("si.cpuTemperature()", () => si.cpuTemperature()),
    await measureReader("direct /sys, this host (agent)", () => here.collect()),
    await measureReader("direct /sys, coretemp tree", () => directTemperature.collect()),
  ];
  console.log("\nper-sample readers (incl. children)  CPU µs/call  wall µs/call  loop stalled ms");
  for (const r of readers)
    console.log(
      `${r.name.padEnd(35)}${fmt(r.cpuUsPerCall)}${fmt(r.wallUsPerCall)}${fmt(r.blockedMs, 2).padStart(17)}`,
    );

  // 2. The import graph.
  console.log("\nimport graph, each part alone in node     RSS MB  V8 heap MB   load ms");
  for (const c of await measureImportCosts())
    console.log(`${c.name.padEnd(38)}${fmt(c.rssMb)}${fmt(c.heapMb).padStart(12)}${fmt(c.loadMs, 0)}`);

  // 3. Daemons, side by side on one broker; 4. the spool, in the same window.
  const dir = mkdtempSync(join(tmpdir(), "bench-agent-"));
  const { root: installed, execStart } = await installedAgent(dir);
  const broker = await MosquittoService.start();
  const env = { PATH: process.env.PATH, LOG_LEVEL: "warn" };
  const daemons: Daemon[] = [];
  for (const flags of [undefined, ...V8_VARIANTS]) {
    const host = `bench-agent-${daemons.length}`;
    const args = ["--broker", broker.url, "--host", host, "--interval", "1"];
    const [node, ...rest] = agentCommand(installed, execStart, flags, args);
    daemons.push({
      name: flags ? `agent, node ${flags.join(" ") || "without flags"}` : "agent as the unit runs it",
      child: spawn(node!, rest, { stdio: "ignore", env }),
      filter: `telemetry/v2/${host}/#`,
    });
  }
  const [node, ...onceArgs] = agentCommand(installed, execStart, [], ["--once", "--host", "bench-bare"]);
  writeFileSync(join(dir, "messages.ndjson"), execFileSync(node!, onceArgs, { encoding: "utf8", env }));
  await build({
    entryPoints: [join(import.meta.dirname, "bare-publisher.ts")],
    outfile: join(dir, "bare-publisher.mjs"),
    ...AGENT_MODULE_BUILD,
    logLevel: "error",
    banner: { js: REQUIRE_SHIM },
  });
  daemons.push({
    name: "node + mqtt.js, the same messages",
    child: spawn(node!, [join(dir, "bare-publisher.mjs"), broker.url, "1000", join(dir, "messages.ndjson")], {
      stdio: "ignore",
    }),
    filter: "telemetry/v2/bench-bare/#",
  });
  daemons.push({
    name: "node alone (an idle timer)",
    child: spawn(node!, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" }),
  });
  const collectd = ensureDebianBinary("collectd", "collectd-core");
  writeFileSync(join(dir, "collectd.conf"), collectdConfig(dir, broker.port));
  daemons.push({
    name: "collectd 5 (C)",
    child: spawn(collectd, ["-f", "-C", join(dir, "collectd.conf")], { stdio: "ignore" }),
    filter: "collectd/#",
  });
  const [figures, spool] = await Promise.all([
    measureDaemons(daemons, broker.url),
    measureSpool(installed, execStart, dir),
  ]);
  await broker.process.stop();

  console.log(
    `\ndaemon at a 1 s interval, node ${process.version}        CPU ms/interval  RSS MB  peak RSS MB  messages/interval`,
  );
  for (const d of figures)
    console.log(
      `${d.name.padEnd(50)}${fmt(d.cpuMsPerInterval, 2).padStart(16)}${fmt(d.rssMb).padStart(8)}${fmt(d.peakRssMb).padStart(13)}${fmt(d.messagesPerInterval).padStart(19)}`,
    );
  const agent = figures[0]!;
  const verdict = (met: boolean) => (met ? "met" : "NOT met");
  console.log(
    `\ngoals for the agent on x64: steady RSS <= ${GOAL.rssMb} MB: ${agent.rssMb.toFixed(1)} MB, ${verdict(agent.rssMb <= GOAL.rssMb)}; CPU <= ${GOAL.cpuMsPerInterval} ms per interval: ${agent.cpuMsPerInterval.toFixed(2)} ms, ${verdict(agent.cpuMsPerInterval <= GOAL.cpuMsPerInterval)}`,
  );
  const perHour = (n: number) => Math.round((n * 3600) / spool.seconds);
  console.log(
    `\ndisk spool during a broker outage at the default 10 s interval (${spool.seconds} s traced): ${perHour(spool.writes)} writes, ${perHour(spool.fsyncs)} fsyncs and ${(perHour(spool.bytes) / 1024).toFixed(0)} KiB per hour; none while the broker is up`,
  );
}

await main();
