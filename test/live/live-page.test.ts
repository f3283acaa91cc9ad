import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import mqtt from "mqtt";
import type { Browser, Page } from "playwright-core";
import {
  freePort,
  launchChromium,
  MosquittoService,
  sharedServices,
  uniqueName,
} from "@cluster-telemetry/dev-stack";
import { spawnProgram, waitFor, type ProgramProcess } from "@cluster-telemetry/dev-stack";
import { spawnAgent } from "../agent/agent-process.ts";
import { spawnLive, tokenFileIn, type LiveProcess } from "./live-process.ts";
import { pictureStats, shownRow, shownRows } from "./page-probe.ts";
import { TOPIC_ROOT, dataStreamFor } from "@cluster-telemetry/contract";

const root = resolve(import.meta.dirname, "..", "..");
/** The README's picture of the page; `npm run screenshot:live` runs this file with LIVE_SCREENSHOT=update. */
export const README_PICTURE = "live/docs/live-view.png";
const fixtures = join(root, "test", "agent", "fixtures");

/** Where each metric's headline value sits in a published message, written out independently of the program. */
const HEADLINE: Record<string, (m: Record<string, Record<string, unknown>>) => number> = {
  cpu: (m) => (m.system!.cpu as { total: { norm: { pct: number } } }).total.norm.pct,
  load: (m) => (m.system!.load as { norm: { "1": number } }).norm["1"],
  temperature: (m) => (m.system!.temperature as { celsius: number }).celsius,
  memory: (m) => (m.system!.memory as { used: { pct: number } }).used.pct,
};

/** A /sys tree with one CPU thermal zone at the given temperature. */
function sysTreeAt(celsius: number): string {
  const dir = mkdtempSync(join(tmpdir(), "telemetry-live-sys-"));
  const zone = join(dir, "class", "thermal", "thermal_zone0");
  mkdirSync(zone, { recursive: true });
  writeFileSync(join(zone, "type"), "cpu-thermal\n");
  writeFileSync(join(zone, "temp"), `${Math.round(celsius * 1000)}\n`);
  return dir;
}

describe("the live page in a real browser, against a real broker, real agents and the fleet simulator", () => {
  // The broker is this test's own, so host names need not be unique: they read as a cluster's would.
  const hosts = { cool: "pi-1", hot: "node-hot", vm: "vm-1", paused: "node-2" };
  const simulated = Array.from({ length: 12 }, (_, i) => `sim-${i}`);
  const namespace = uniqueName("live");
  const tokenFile = tokenFileIn();
  const processes: ProgramProcess[] = [];
  const agents: Record<string, ProgramProcess> = {};
  /** Every published sample: "<host>/<metric>" → epoch second → messages. */
  const published = new Map<string, Map<number, Record<string, Record<string, unknown>>[]>>();
  let broker: MosquittoService;
  let listener: mqtt.MqttClient;
  let live: LiveProcess;
  let liveArgs: string[];
  let browser: Browser;
  let page: Page;

  before(async () => {
    const { elasticsearchUrl, redisUrl } = sharedServices();
    // A broker of its own: it is restarted below, and the page should list this test's hosts only.
    broker = await MosquittoService.start();
    listener = await mqtt.connectAsync(broker.url, { clientId: uniqueName("live-listener") });
    listener.on("message", (topic, payload) => {
      const [, , host, metric] = topic.split("/");
      if (metric === "status") return;
      const message = JSON.parse(payload.toString()) as Record<string, Record<string, unknown>>;
      const second = Math.floor(Date.parse(message["@timestamp"] as unknown as string) / 1000);
      const key = `${host}/${metric}`;
      const bySecond = published.get(key) ?? new Map();
      published.set(key, bySecond);
      bySecond.set(second, [...(bySecond.get(second) ?? []), message]);
    });
    await listener.subscribeAsync(`${TOPIC_ROOT}/#`, { qos: 0 });

    const agent = (host: string, sysRoot: string) => {
      agents[host] = spawnAgent(["--broker", broker.url, "--host", host, "--interval", "1"], {
        TELEMETRY_SYS_ROOT: sysRoot,
      });
      processes.push(agents[host]);
    };
    agent(hosts.cool, join(fixtures, "rpi", "sys"));
    agent(hosts.hot, sysTreeAt(99.5));
    agent(hosts.vm, join(fixtures, "vm", "sys"));
    agent(hosts.paused, join(fixtures, "coretemp", "sys"));
    const simulator = spawnAgent([
      "simulate",
      ...["--hosts", String(simulated.length), "--interval", "1", "--broker", broker.url],
      ...["--prefix", "sim", "--offline-rate", "0"],
    ]);
    processes.push(simulator);
    // The ingest fills Elasticsearch, where a restarted telemetry-live finds the last minutes.
    const ingest = spawnProgram("ingest/src/main.ts", ["--http-port", "0"], {
      MQTT_URL: broker.url,
      MQTT_CLIENT_ID: uniqueName("live-ingest"),
      REDIS_URL: redisUrl,
      INGEST_REDIS_PREFIX: uniqueName("live"),
      ELASTICSEARCH_URL: elasticsearchUrl,
      INGEST_NAMESPACE: namespace,
      INGEST_FLUSH_INTERVAL: "200ms",
    });
    processes.push(ingest);
    // Subscribed before the agents' first minute ends, so the history holds every host.
    await waitFor("the ingest to start", () => ingest.output().includes('"event":"ingest_started"'), 120_000);

    const port = await freePort();
    liveArgs = ["--mqtt-url", broker.url, "--port", String(port), "--auth-token-file", tokenFile];
    liveArgs.push("--elasticsearch-url", elasticsearchUrl, "--namespace", namespace);
    live = await spawnLive(liveArgs);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    await page.goto(live.signInUrl);
  });

  after(async () => {
    await browser?.close();
    for (const p of [...processes, live]) {
      if (!p) continue;
      p.child.kill("SIGCONT");
      p.child.kill("SIGKILL");
    }
    await listener?.endAsync();
    await broker?.process.stop();
  });

  it("lists every host, real and simulated, with the values they published", async () => {
    const every = [...Object.values(hosts), ...simulated];
    await waitFor(
      "every host with a CPU value on the page",
      async () => {
        const shown = new Map((await shownRows(page)).map((r) => [r.host, r]));
        return every.every((h) => shown.get(h)?.cells.cpu?.value !== undefined);
      },
      120_000,
    );
    const rows = await shownRows(page);
    assert.deepEqual(rows.map((r) => r.host).sort(), [...every].sort(), "this test's hosts and no others");
    let compared = 0;
    for (const row of rows) {
      for (const [metric, cell] of Object.entries(row.cells)) {
        if (cell.value === undefined) continue;
        const candidates = published.get(`${row.host}/${metric}`)?.get(cell.time) ?? [];
        assert.ok(candidates.length > 0, `${row.host} ${metric}: nothing was published at ${cell.time}`);
        const match = candidates.some((m) => Math.abs(HEADLINE[metric]!(m) - cell.value!) < 1e-4);
        assert.ok(
          match,
          `${row.host} ${metric}: the page shows ${cell.value}, published ${candidates.map(HEADLINE[metric]!).join(", ")}`,
        );
        compared++;
      }
      assert.equal(row.cells.cpu!.text, `${Math.round(row.cells.cpu!.value! * 100)} %`);
    }
    assert.ok(compared >= every.length * 3, `compared ${compared} values`);
  });

  it('shows "no sensor" for a host without a temperature sensor, never a number', async () => {
    const vm = await shownRow(page, hosts.vm);
    assert.equal(vm?.cells.temperature?.text, "no sensor");
    assert.equal(vm?.cells.temperature?.value, undefined);
    const cool = await shownRow(page, hosts.cool);
    assert.equal(cool?.cells.temperature?.text, "48.3 °C");
  });

  it("marks a host above the hot threshold and sorts it first", async () => {
    await waitFor("the hot host marked", async () => (await shownRow(page, hosts.hot))?.hot === true);
    const rows = await shownRows(page);
    assert.equal(rows[0]?.host, hosts.hot, `first row: ${rows[0]?.host}`);
    assert.equal(rows[0]?.cells.temperature?.text, "99.5 °C");
    assert.equal(rows.filter((r) => r.hot).length, 1);
    assert.match((await page.textContent("#summary")) ?? "", new RegExp(`hottest ${hosts.hot} 99\\.5 °C`));
  });

  it("filters by host name and follows the OS's light or dark preference", async () => {
    await page.fill("#filter", "SIM-1");
    await waitFor("only the matching hosts", async () => {
      const shown = (await shownRows(page)).map((r) => r.host).sort();
      return shown.join() === ["sim-1", "sim-10", "sim-11"].join();
    });
    await page.fill("#filter", "");
    await waitFor("every host again", async () => (await shownRows(page)).length === 16);
    const background = () => page.evaluate<string>("getComputedStyle(document.body).backgroundColor");
    await page.emulateMedia({ colorScheme: "light" });
    const light = await background();
    await page.emulateMedia({ colorScheme: "dark" });
    const dark = await background();
    await page.emulateMedia({ colorScheme: "light" });
    assert.equal(light, "rgb(247, 248, 250)");
    assert.equal(dark, "rgb(16, 19, 24)");
  });

  it("turns an agent killed with -9 offline (its Last Will) and sorts it first", async () => {
    agents[hosts.cool]!.child.kill("SIGKILL");
    await waitFor(
      "the killed agent offline",
      async () => (await shownRow(page, hosts.cool))?.status === "offline",
    );
    assert.equal((await shownRows(page))[0]?.host, hosts.cool);
  });

  it("turns an agent stopped with SIGSTOP silent, and online again after SIGCONT", async () => {
    const paused = agents[hosts.paused]!;
    paused.child.kill("SIGSTOP");
    await waitFor(
      "the stopped agent silent",
      async () => (await shownRow(page, hosts.paused))?.status === "silent",
    );
    paused.child.kill("SIGCONT");
    await waitFor(
      "the resumed agent online",
      async () => (await shownRow(page, hosts.paused))?.status === "online",
    );
  });

  it("recovers on its own after the broker restarts", async () => {
    await broker.restart();
    const restarted = Math.floor(Date.now() / 1000);
    await waitFor(
      "new samples after the broker's restart",
      async () => ((await shownRow(page, hosts.hot))?.cells.cpu?.time ?? 0) > restarted,
      60_000,
    );
    assert.equal((await shownRow(page, hosts.hot))?.status, "online");
    assert.equal((await shownRow(page, hosts.cool))?.status, "offline", "the retained Last Will survives");
  });

  it("recovers on its own after telemetry-live restarts, and a reload shows the last minutes at once (history)", async () => {
    const { elasticsearchUrl } = sharedServices();
    const count = async () => {
      const response = await fetch(`${elasticsearchUrl}/${dataStreamFor("cpu", namespace)}/_count`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: { term: { "host.name": hosts.hot } } }),
      });
      return ((await response.json()) as { count?: number }).count ?? 0;
    };
    await waitFor("20 s of the hot host in Elasticsearch", async () => (await count()) >= 20, 90_000);
    live.child.kill("SIGTERM");
    assert.equal(await live.exited, 0);
    const restarted = Math.floor(Date.now() / 1000);
    live = await spawnLive(liveArgs);
    // The page reconnects by itself: no reload.
    await waitFor(
      "the page updated by the new process",
      async () => ((await shownRow(page, hosts.hot))?.cells.cpu?.time ?? 0) > restarted,
      60_000,
    );
    await page.reload();
    await page.waitForSelector(`.host-row[data-host="${hosts.hot}"]`);
    const hot = await shownRow(page, hosts.hot);
    const cpu = hot!.cells.cpu!;
    assert.ok(
      cpu.first > 0 && cpu.first < restarted - 10,
      `the sparkline starts at ${cpu.first}, the restart was at ${restarted}`,
    );
    assert.ok(cpu.points >= 3, `${cpu.points} points`);
  });

  it("renders a real picture of the page, the README's", async () => {
    await page.click(`.host-row[data-host="${hosts.hot}"]`);
    await waitFor(
      "the detail charts",
      async () =>
        Number((await page.getAttribute('#detail-charts .chart[data-metric="cpu"]', "data-points")) ?? 0) >=
        2,
    );
    const png = await page.screenshot();
    const stats = await pictureStats(browser, png);
    assert.equal(stats.width, 1500);
    assert.ok(
      stats.inked > 0.05,
      `only ${(stats.inked * 100).toFixed(1)} % of the picture differs from its background`,
    );
    assert.ok(stats.colours > 100, `${stats.colours} colours`);
    assert.ok((await page.locator(".host-row:not([hidden])").count()) >= 16, "the table is drawn");
    assert.equal(await page.isVisible("#detail"), true);
    if (process.env.LIVE_SCREENSHOT === "update") {
      writeFileSync(join(root, README_PICTURE), png);
    }
    const readme = readFileSync(join(root, "live", "README.md"), "utf8");
    // live/README.md names it relative to itself.
    const fromReadme = relative(join(root, "live"), join(root, README_PICTURE));
    assert.ok(readme.includes(`(${fromReadme})`), `live/README.md shows ${README_PICTURE}`);
    const committed = await pictureStats(browser, readFileSync(join(root, README_PICTURE)));
    assert.ok(
      committed.inked > 0.05 && committed.colours > 100,
      "the README's picture is a real rendering too",
    );
  });
});
