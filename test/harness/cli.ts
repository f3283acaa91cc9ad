// `npm run --silent services -- up|down|status`: the test services by hand.
// `up` prints exactly the three URL lines on stdout, so `eval "$(npm run --silent services -- up)"` works;
// everything else goes to stderr.
import { down, envLines, status, up } from "./stack.ts";
import { ServiceStartError } from "./service-process.ts";

const command = process.argv[2] ?? "status";

async function main(): Promise<number> {
  switch (command) {
    case "up": {
      const services = await up();
      for (const s of services) process.stderr.write(`${s.name}: ${s.origin} at ${s.url}\n`);
      process.stdout.write(envLines(services).join("\n") + "\n");
      return 0;
    }
    case "down": {
      const stopped = await down();
      process.stderr.write(stopped.length ? `stopped: ${stopped.join(", ")}\n` : "nothing to stop\n");
      return 0;
    }
    case "status":
      process.stdout.write(status().join("\n") + "\n");
      return 0;
    default:
      process.stderr.write(`usage: services up|down|status (got "${command}")\n`);
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const errors = error instanceof AggregateError ? error.errors : [error];
    for (const e of errors) {
      if (e instanceof ServiceStartError) {
        process.stderr.write(
          `${e.logTail}\nharness: ${e.service} did not start: ${e.message.split("\n")[0]}\n`,
        );
      } else {
        process.stderr.write(`harness: ${e instanceof Error ? e.message : String(e)}\n`);
      }
    }
    process.exit(1);
  },
);
