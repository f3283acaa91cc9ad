// npm run bench:agent [-- --seconds 30 --calls 40]
//
// What the agent costs a node, beside collectd (the usual C daemon for the job) in the same run:
//   1. the per-sample readers: systeminformation's currentLoad()/cpuTemperature() against the
//      agent's direct /proc and /sys readers (CPU time including spawned children, and how long
//      each call holds the caller);
//   2. the whole daemon at a 1 s interval publishing to a local Mosquitto: CPU time per interval,
//      CPU %, resident memory and messages per interval, for the agent and for collectd.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import mqtt from "mqtt";
import si from "systeminformation";
import { CpuCollector } from "../src/collectors/cpu.ts";
import { TemperatureCollector } from "../src/collectors/temperature.ts";
import { MosquittoService, ensureDebianBinary } from "../../test/harness/index.ts";

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "30" }, calls: { type: "string", default: "40" } },
});
const seconds = Number(values.seconds);
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
  cpuPct: number;
  rssMb: number;
  peakRssMb: number;
  messagesPerInterval: number;
}

async function measureDaemon(
  name: string,
  child: ChildProcess,
  brokerUrl: string,
  filter: string,
): Promise<DaemonFigures> {
  const listener = await mqtt.connectAsync(brokerUrl, { clientId: `bench-${name}` });
  let messages = 0;
  listener.on("message", () => (messages += 1));
  await listener.subscribeAsync(filter, { qos: 0 });
  await new Promise((r) => setTimeout(r, 5000)); // start-up (module loading, JIT) is not steady state
  const pid = child.pid!;
  const cpu0 = cpuMs(pid);
  const m0 = messages;
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const elapsed = (Date.now() - t0) / 1000;
  const figures: DaemonFigures = {
    name,
    cpuMsPerInterval: (cpuMs(pid) - cpu0) / elapsed,
    cpuPct: (cpuMs(pid) - cpu0) / (elapsed * 10),
    rssMb: statusKb(pid, "VmRSS") / 1024,
    peakRssMb: statusKb(pid, "VmHWM") / 1024,
    messagesPerInterval: (messages - m0) / elapsed,
  };
  child.kill("SIGTERM");
  await listener.endAsync();
  return figures;
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

async function main(): Promise<void> {
  console.log(
    `bench:agent on ${si ? (await si.cpu()).brand : "?"}, ${calls} calls per reader, ${seconds} s per daemon`,
  );

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

  // 2. Daemons, one after the other on the same broker.
  const broker = await MosquittoService.start();
  execFileSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: "inherit" });
  const agent = spawn(
    process.execPath,
    [
      join(root, "dist/agent/src/main.js"),
      "--broker",
      broker.url,
      "--host",
      "bench-agent",
      "--interval",
      "1",
    ],
    { stdio: "ignore", env: { PATH: process.env.PATH, LOG_LEVEL: "warn" } },
  );
  const agentFigures = await measureDaemon(
    "telemetry-agent",
    agent,
    broker.url,
    "telemetry/v1/bench-agent/#",
  );

  const collectd = ensureDebianBinary("collectd", "collectd-core");
  const dir = mkdtempSync(join(tmpdir(), "bench-collectd-"));
  writeFileSync(join(dir, "collectd.conf"), collectdConfig(dir, broker.port));
  const daemon = spawn(collectd, ["-f", "-C", join(dir, "collectd.conf")], { stdio: "ignore" });
  const collectdFigures = await measureDaemon("collectd 5 (C)", daemon, broker.url, "collectd/#");
  await broker.process.stop();

  console.log(
    "\ndaemon at 1 s interval   CPU ms/interval     CPU %    RSS MB  peak RSS MB  messages/interval",
  );
  for (const d of [agentFigures, collectdFigures])
    console.log(
      `${d.name.padEnd(24)}${fmt(d.cpuMsPerInterval, 2)}${fmt(d.cpuPct, 2)}${fmt(d.rssMb)}${fmt(d.peakRssMb, 1).padStart(13)}${fmt(d.messagesPerInterval).padStart(19)}`,
    );
  console.log(
    `\nratio agent/collectd: CPU ${(agentFigures.cpuMsPerInterval / Math.max(collectdFigures.cpuMsPerInterval, 0.01)).toFixed(1)}x, RSS ${(agentFigures.rssMb / Math.max(collectdFigures.rssMb, 0.1)).toFixed(1)}x`,
  );
}

await main();
