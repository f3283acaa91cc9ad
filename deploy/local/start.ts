// `npm start`: the whole pipeline on this machine. Brings up Mosquitto, Redis and Elasticsearch
// through the test harness (or uses MQTT_URL, REDIS_URL, ELASTICSEARCH_URL when set), starts the
// ingest and one agent reporting this machine, shows where the data lands, and on Ctrl-C stops
// everything it started. `--check` stops by itself once the first documents are searchable.
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { Client } from "@elastic/elasticsearch";
import { down, up } from "../../test/harness/stack.ts";

const root = resolve(import.meta.dirname, "..", "..");
const check = process.argv.includes("--check");

async function main(): Promise<number> {
  const services = await up();
  const url = (name: string) => services.find((s) => s.name === name)!.url;
  const started = services.filter((s) => s.origin === "started").map((s) => s.name);
  const env = {
    ...process.env,
    MQTT_URL: url("mosquitto"),
    REDIS_URL: url("redis"),
    ELASTICSEARCH_URL: url("elasticsearch"),
    LOG_LEVEL: "warn",
  };
  const children: ChildProcess[] = [];
  const run = (entry: string, args: string[] = []) => {
    const child = spawn(process.execPath, ["--import", "tsx", entry, ...args], {
      cwd: root,
      env,
      stdio: ["ignore", "inherit", "inherit"],
    });
    children.push(child);
    return child;
  };
  run("ingest/src/main.ts", ["--http-port", "0"]);
  run("agent/src/main.ts", ["--interval", "5"]);

  const es = new Client({ node: url("elasticsearch") });
  const count = async () =>
    (await es.count({ index: "metrics-telemetry.*-default" }).catch(() => ({ count: 0 }))).count;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const child of children) child.kill("SIGTERM");
    await Promise.all(
      children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r)))),
    );
    await es.close();
    if (started.length > 0) await down(started);
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  const deadline = Date.now() + 120_000;
  while ((await count()) === 0) {
    if (Date.now() > deadline) {
      process.stderr.write("no documents reached Elasticsearch within 2 minutes\n");
      await stop(1);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  const { port } = new URL(url("mosquitto"));
  process.stdout.write(
    [
      "cluster-telemetry is running.",
      `  Elasticsearch: ${url("elasticsearch")}`,
      "  data streams:  metrics-telemetry.{cpu,load,temperature,memory,status}-default, logs-telemetry.deadletter-default",
      `  MQTT topics:   mosquitto_sub -h 127.0.0.1 -p ${port} -v -t 'telemetry/v1/#'`,
      `  search:        curl '${url("elasticsearch")}/metrics-telemetry.cpu-default/_search?size=1&sort=@timestamp:desc'`,
      check ? "" : "Ctrl-C stops everything started here.",
      "",
    ].join("\n"),
  );
  if (check) {
    process.stdout.write(`documents: ${await count()}\n`);
    await stop(0);
  }
  for (;;) {
    process.stdout.write(`documents: ${await count()}\n`);
    await new Promise((r) => setTimeout(r, 5000));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`npm start: ${(error as Error).message}\n`);
  process.exit(1);
});
