// npm run bench:live — telemetry-live under a simulated fleet, with a real browser watching:
//
//   fleet simulator (N hosts, 1 s) ──▶ Mosquitto ──▶ telemetry-live ──SSE──▶ Chromium (the page)
//
// Measured over a window after warm-up: CPU µs per message of telemetry-live (its own utime + stime
// from /proc over the messages it counted), its resident memory, the update bytes per second each
// browser receives, and the page's main-thread busy time per second (CDP Performance.TaskDuration).
import { readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { launchChromium, MosquittoService } from "@cluster-telemetry/dev-stack";
import { spawnProgram, waitFor, type ProgramProcess } from "@cluster-telemetry/dev-stack";

const { values: args } = parseArgs({
  options: {
    hosts: { type: "string", default: "5000" },
    interval: { type: "string", default: "1" },
    connections: { type: "string", default: "20" },
    warmup: { type: "string", default: "15" },
    seconds: { type: "string", default: "30" },
  },
});
const hosts = Number(args.hosts);
const seconds = Number(args.seconds);
const GOALS = { cpuMicros: 15, browserBusy: 0.1, bytesPerSecond: 50_000 };

const TICKS = 100; // USER_HZ on Linux
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}
function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"))!;
  return Number(/(\d+)/.exec(line)![1]) * 1024;
}

async function main(): Promise<number> {
  const broker = await MosquittoService.start({ persistence: "periodic" });
  const tokenFile = join(mkdtempSync(join(tmpdir(), "live-bench-")), "token");
  const children: ProgramProcess[] = [];
  try {
    const live = spawnProgram(
      "live/src/main.ts",
      ["--mqtt-url", broker.url, "--port", "0", "--auth-token-file", tokenFile],
      { LIVE_MAX_HOSTS: String(hosts + 100), LOG_LEVEL: "info" },
    );
    children.push(live);
    let url = "";
    await waitFor("telemetry-live to listen", () => {
      const match = /"url":"([^"]+)"/.exec(live.output());
      if (match) url = match[1]!;
      return Boolean(match);
    });
    const token = readFileSync(tokenFile, "utf8").trim();
    const metric = async (name: string) => {
      const text = await (
        await fetch(`${url}metrics`, { headers: { authorization: `Bearer ${token}` } })
      ).text();
      return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
    };
    const simulator = spawnProgram("agent/src/main.ts", [
      "simulate",
      ...["--hosts", String(hosts), "--interval", args.interval, "--connections", args.connections],
      ...["--broker", broker.url, "--offline-rate", "0", "--prefix", "bench"],
    ]);
    children.push(simulator);
    await waitFor(
      `all ${hosts} hosts known to telemetry-live`,
      async () => (await metric("telemetry_live_hosts_known")) >= hosts,
      180_000,
    );
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
      await page.goto(`${url}?token=${token}`);
      await page.waitForSelector(".host-row");
      const cdp = await page.context().newCDPSession(page);
      await cdp.send("Performance.enable");
      /** Seconds the page's main thread spent in tasks, and in script, style and layout among them. */
      const mainThread = async () => {
        const { metrics } = await cdp.send("Performance.getMetrics");
        const of = (name: string) => metrics.find((m) => m.name === name)?.value ?? 0;
        return {
          task: of("TaskDuration"),
          script: of("ScriptDuration"),
          style: of("RecalcStyleDuration"),
          layout: of("LayoutDuration"),
        };
      };
      await new Promise((r) => setTimeout(r, Number(args.warmup) * 1000));

      const pid = live.child.pid!;
      const start = {
        at: performance.now(),
        cpu: cpuSeconds(pid),
        messages: await metric("telemetry_live_messages_received_total"),
        bytes: await metric("telemetry_live_update_bytes_sent_total"),
        updates: await metric("telemetry_live_updates_sent_total"),
        main: await mainThread(),
      };
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const elapsed = (performance.now() - start.at) / 1000;
      const messages = (await metric("telemetry_live_messages_received_total")) - start.messages;
      const cpu = cpuSeconds(pid) - start.cpu;
      const bytes = (await metric("telemetry_live_update_bytes_sent_total")) - start.bytes;
      const updates = (await metric("telemetry_live_updates_sent_total")) - start.updates;
      const main = await mainThread();
      const busy = (main.task - start.main.task) / elapsed;
      const share = (key: keyof typeof main) =>
        `${(((main[key] - start.main[key]) / elapsed) * 100).toFixed(1)} %`;
      const rss = rssBytes(pid);
      const rowElements = await page.locator(".host-row").count();
      const browsers = await metric("telemetry_live_browsers_connected");

      const micros = messages > 0 ? (cpu * 1e6) / messages : NaN;
      const perBrowser = bytes / elapsed / Math.max(1, browsers);
      const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
      const rows = [
        ["messages received per second", (messages / elapsed).toFixed(0), "", ""],
        [
          "CPU µs per message (telemetry-live)",
          micros.toFixed(1),
          `≤ ${GOALS.cpuMicros}`,
          verdict(micros <= GOALS.cpuMicros),
        ],
        [`resident memory (${hosts} hosts)`, `${(rss / 2 ** 20).toFixed(0)} MiB`, "", ""],
        ["resident memory per host", `${(rss / hosts / 1024).toFixed(1)} KiB`, "", ""],
        [
          "updates per second per browser",
          (updates / elapsed / Math.max(1, browsers)).toFixed(2),
          "≤ 1",
          verdict(updates / elapsed / Math.max(1, browsers) <= 1.05),
        ],
        [
          "bytes per second per browser",
          perBrowser.toFixed(0),
          `≤ ${GOALS.bytesPerSecond}`,
          verdict(perBrowser <= GOALS.bytesPerSecond),
        ],
        [
          "browser main thread busy (share of one core)",
          `${(busy * 100).toFixed(1)} %`,
          `≤ ${GOALS.browserBusy * 100} %`,
          verdict(busy <= GOALS.browserBusy),
        ],
        [
          "… of which script / style / layout",
          `${share("script")} / ${share("style")} / ${share("layout")}`,
          "",
          "",
        ],
        ["row elements in the page (virtualised)", `${rowElements} for ${hosts} hosts`, "", ""],
      ];
      process.stdout.write(
        [
          `telemetry-live: ${hosts} simulated hosts at a ${args.interval} s interval, one browser, measured over ${elapsed.toFixed(0)} s`,
          "",
          "| figure | measured | goal | |",
          "| --- | ---: | ---: | --- |",
          ...rows.map((r) => `| ${r.join(" | ")} |`),
          "",
          JSON.stringify({
            event: "live_bench",
            hosts,
            seconds: elapsed,
            messages,
            cpuMicrosPerMessage: micros,
            rssBytes: rss,
            bytesPerSecondPerBrowser: perBrowser,
            browserBusy: busy,
          }),
          "",
        ].join("\n"),
      );
    } finally {
      await browser.close();
    }
    return 0;
  } finally {
    for (const child of children) {
      child.child.kill("SIGTERM");
      await child.exited;
    }
    await broker.process.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench:live: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
