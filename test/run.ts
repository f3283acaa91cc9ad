// The test command (`npm test`): brings up the services (or reuses those named by MQTT_URL,
// REDIS_URL, ELASTICSEARCH_URL, or started earlier by `services up`), runs every *.test.ts file
// with node's test runner, and stops only what it started.
//
//   npm test                      all tests
//   npm test -- test/agent        the tests under one folder (or single files)
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { down, envLines, up } from "@cluster-telemetry/dev-stack";
import { ServiceStartError } from "@cluster-telemetry/dev-stack";

const root = resolve(import.meta.dirname, "..");

function testFiles(paths: string[]): string[] {
  const found: string[] = [];
  const walk = (path: string): void => {
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) {
        if (entry === "node_modules" || entry === "target" || entry.startsWith(".")) continue;
        walk(join(path, entry));
      }
    } else if (path.endsWith(".test.ts")) found.push(relative(root, path));
  };
  for (const p of paths) walk(resolve(root, p));
  return found;
}

async function main(): Promise<number> {
  const files = testFiles(process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["test"]);
  if (files.length === 0) {
    process.stderr.write("no test files found\n");
    return 1;
  }
  const services = await up();
  const started = services.filter((s) => s.origin === "started").map((s) => s.name);
  for (const s of services) process.stderr.write(`services: ${s.name} ${s.origin} at ${s.url}\n`);
  const env = { ...process.env };
  for (const line of envLines(services)) {
    const [key, value] = line.split("=", 2) as [string, string];
    env[key] = value;
  }
  try {
    return await new Promise<number>((resolveCode) => {
      // One file at a time: several suites stop and restart the shared services on purpose.
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "--test", "--test-concurrency=1", "--test-reporter=spec", ...files],
        { cwd: root, env, stdio: "inherit" },
      );
      child.on("exit", (code, signal) => resolveCode(code ?? (signal ? 1 : 0)));
    });
  } finally {
    if (started.length > 0) await down(started);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const errors = error instanceof AggregateError ? error.errors : [error];
    for (const e of errors) {
      if (e instanceof ServiceStartError) process.stderr.write(`${e.logTail}\n`);
      process.stderr.write(`test harness: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}\n`);
    }
    process.exit(1);
  },
);
