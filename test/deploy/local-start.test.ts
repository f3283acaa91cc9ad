import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { freePort, sharedServices, uniqueName } from "@cluster-telemetry/dev-stack";
import { waitFor } from "@cluster-telemetry/dev-stack";
import { pidAlive } from "@cluster-telemetry/dev-stack";
import { dataStreamFor, deadLetterStreamFor, telemetryStreamsPattern } from "@cluster-telemetry/contract";

const root = resolve(import.meta.dirname, "..", "..");

/** A real `npm start` in a child process: its own data directory, Elasticsearch shared, Mosquitto and Redis its own. */
interface Start {
  npm: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  dir: string;
}

function npmStart(dir: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Start {
  const { elasticsearchUrl } = sharedServices();
  const base = { ...process.env };
  delete base.MQTT_URL;
  delete base.REDIS_URL;
  const npm = spawn("npm", ["start", "--", "--data-dir", dir, ...args], {
    cwd: root,
    env: { ...base, ELASTICSEARCH_URL: elasticsearchUrl, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, as a terminal gives it: Ctrl-C goes to the group.
    detached: true,
  });
  let out = "";
  let err = "";
  npm.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  npm.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => npm.once("exit", (code) => r(code)));
  return { npm, stdout: () => out, stderr: () => err, exited, dir };
}

/** Every process the run recorded: npm start itself, its children, its services. */
function recorded(dir: string): Array<{ name: string; pid: number }> {
  const run = JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as {
    pid: number;
    children: Record<string, number>;
  };
  const services = JSON.parse(readFileSync(join(dir, "services.json"), "utf8")) as Record<
    string,
    { pid: number }
  >;
  return [
    { name: "npm start", pid: run.pid },
    ...Object.entries(run.children).map(([name, pid]) => ({ name, pid })),
    ...Object.entries(services).map(([name, s]) => ({ name, pid: s.pid })),
  ];
}

async function running(start: Start): Promise<Array<{ name: string; pid: number }>> {
  await waitFor("the banner", () => start.stdout().includes("cluster-telemetry is running."), 120_000);
  return recorded(start.dir);
}

async function allGone(what: string, pids: Array<{ name: string; pid: number }>): Promise<void> {
  await waitFor(
    `${what}: ${pids.map((p) => p.name).join(", ")} ending`,
    () => pids.every((p) => !pidAlive(p.pid)),
    60_000,
  );
}

describe("npm start", () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "telemetry-start-"));
    dirs.push(dir);
    return dir;
  };
  const starts: Start[] = [];
  after(() => {
    for (const s of starts) if (s.npm.exitCode === null) s.npm.kill("SIGKILL");
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("passes its settings through, prints every URL, lists the data streams that exist, restarts a child that dies, refuses a second start and ends everything on SIGTERM", async () => {
    const { elasticsearchUrl } = sharedServices();
    const dir = tempDir();
    const namespace = uniqueName("start");
    const httpPort = await freePort();
    const start = npmStart(dir, ["--namespace", namespace, "--http-port", String(httpPort)], {
      TELEMETRY_INTERVAL: "1",
    });
    starts.push(start);
    const before = await running(start);
    const banner = start.stdout();

    // The live view's URL comes first, and it shows this machine's agent with the token it carries.
    const firstUrl = /^ {2}live view: +(\S+)$/m.exec(banner)?.[1];
    assert.ok(firstUrl, banner);
    assert.ok(
      banner.indexOf("live view:") < banner.indexOf("ingest ready:"),
      "the live view is listed first",
    );
    assert.equal((await fetch(firstUrl.split("?")[0]!)).status, 401, "no page without the token");
    const signIn = await fetch(firstUrl, { redirect: "manual" });
    assert.ok(signIn.status < 400, `the token URL answers ${signIn.status}`);
    const cookie = signIn.headers.get("set-cookie")?.split(";")[0] ?? "";
    const thisMachine = hostname().split(".")[0]!;
    await waitFor("this machine's CPU in the live view", async () => {
      const response = await fetch(new URL(`/api/hosts/${thisMachine}`, firstUrl), { headers: { cookie } });
      return response.ok && JSON.stringify(await response.json()).includes("cpu");
    });
    // The ingest's health port is the one asked for, printed, and answers.
    assert.match(banner, new RegExp(`http://127\\.0\\.0\\.1:${httpPort}/readyz`));
    await waitFor("/readyz 200", async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).ok);
    // The interval from the environment reached the agent: its status says 1000 ms.
    await waitFor("the agent's status", async () => {
      const response = await fetch(
        `${elasticsearchUrl}/${dataStreamFor("status", namespace)}/_search?size=1`,
      );
      const body = (await response.json()) as {
        hits?: { hits: Array<{ _source: { telemetry: { interval: { ms: number } } } }> };
      };
      return body.hits?.hits[0]?._source.telemetry.interval.ms === 1000;
    });
    // The banner lists exactly the data streams this Elasticsearch holds, each with a count.
    const listed = [...banner.matchAll(/^ {4}(\S+) {2}(\d+) documents$/gm)].map((m) => m[1]);
    const resolved = (await (
      await fetch(
        `${elasticsearchUrl}/_resolve/index/${telemetryStreamsPattern(namespace)},${deadLetterStreamFor(namespace)}?ignore_unavailable=true`,
      )
    ).json()) as { data_streams: Array<{ name: string }> };
    assert.ok(listed.length > 0);
    assert.deepEqual(listed.sort(), resolved.data_streams.map((d) => d.name).sort());
    assert.ok(!banner.includes(deadLetterStreamFor(namespace)), "no dead letters, so no dead-letter stream");
    assert.doesNotMatch(banner, /_data_stream/);

    // A second start on the same data directory says who runs and where to look, and exits.
    const second = npmStart(dir);
    starts.push(second);
    assert.equal(await second.exited, 1);
    assert.match(
      second.stderr(),
      new RegExp(`already running here \\(pid ${before[0]!.pid}, since .*run\\.json`),
    );

    // kill -9 of the ingest: reported at once and restarted.
    const ingest = before.find((p) => p.name === "ingest")!;
    process.kill(ingest.pid, "SIGKILL");
    await waitFor("the restart report", () =>
      /ingest was killed by SIGKILL; restarting it/.test(start.stderr()),
    );
    await waitFor("a new ingest", () => {
      const now = recorded(dir).find((p) => p.name === "ingest");
      return now !== undefined && now.pid !== ingest.pid && pidAlive(now.pid);
    });
    await waitFor("/readyz 200 again", async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).ok);

    // SIGTERM to npm (what timeout, CI and supervisors send) ends everything, npm included.
    const all = recorded(dir);
    const began = Date.now();
    start.npm.kill("SIGTERM");
    await start.exited;
    await allGone("after SIGTERM", all);
    console.log(`npm start stopped everything in ${Date.now() - began} ms after SIGTERM`);
    assert.equal(existsSync(join(dir, "run.json")), false);
  });

  it("ends everything on Ctrl-C, keeps data unless --fresh, and leaves no orphans after kill -9 of npm or of the start process", async () => {
    const dir = tempDir();
    const namespace = uniqueName("start");

    const first = npmStart(dir, ["--namespace", namespace]);
    starts.push(first);
    const firstPids = await running(first);
    assert.match(first.stderr(), /kept from earlier runs \(--fresh wipes it\)/);
    // Ctrl-C in a terminal: SIGINT to the whole group, so npm start gets it directly and from npm.
    process.kill(-first.npm.pid!, "SIGINT");
    assert.equal(await first.exited, 0);
    await allGone("after Ctrl-C", firstPids);
    assert.match(first.stderr(), /stopped mosquitto, redis/, "an orderly stop, not the second Ctrl-C's kill");
    const marker = join(dir, "redis", "marker");
    writeFileSync(marker, "from the first run");

    // Data kept by default; kill -9 of npm: the start process notices its parent is gone and stops.
    const second = npmStart(dir, ["--namespace", namespace]);
    starts.push(second);
    const secondPids = await running(second);
    assert.ok(existsSync(marker), "the first run's data directory is kept");
    second.npm.kill("SIGKILL");
    await allGone("after kill -9 of npm", secondPids);

    // --fresh wipes; kill -9 of the start process itself: its reaper ends the children and services.
    const third = npmStart(dir, ["--namespace", namespace, "--fresh"]);
    starts.push(third);
    const thirdPids = await running(third);
    assert.match(third.stderr(), /wiped \(--fresh\)/);
    assert.equal(existsSync(marker), false);
    process.kill(thirdPids[0]!.pid, "SIGKILL");
    await allGone("after kill -9 of the start process", thirdPids);
    const reaperLog = () =>
      existsSync(join(dir, "reaper.log")) ? readFileSync(join(dir, "reaper.log"), "utf8") : "";
    await waitFor("the reaper's report", () =>
      /ended without stopping; ended live \(pid \d+\), ingest \(pid \d+\), agent/.test(reaperLog()),
    ).catch((error: Error) => {
      throw new Error(`${error.message}; reaper.log: ${reaperLog() || "(none)"}`);
    });
    third.npm.kill("SIGKILL");
  });

  it("stops what it started and says so when a service does not come up", async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    // Elasticsearch's data directory cannot be made: a file stands where it goes.
    writeFileSync(join(dir, "elasticsearch"), "in the way");
    const start = npmStart(dir, [], { ELASTICSEARCH_URL: "" });
    starts.push(start);
    assert.equal(await start.exited, 1);
    assert.match(start.stderr(), /elasticsearch/i);
    const stopped =
      /stopped mosquitto \(pid (\d+)\) and redis \(pid (\d+)\), which this start had started; nothing is left running/.exec(
        start.stderr(),
      );
    assert.ok(stopped, start.stderr());
    assert.equal(pidAlive(Number(stopped[1])), false);
    assert.equal(pidAlive(Number(stopped[2])), false);
  });
});
