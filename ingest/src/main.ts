import { configuredOrExit } from "@cluster-telemetry/contract/config";
import { loadIngestConfigFromProcess } from "./config/ingest-config.ts";
import { createLogger } from "./logging.ts";
import { STOP_GRACE_MS, startIngest, type RunningIngest } from "./pipeline.ts";

async function main(): Promise<void> {
  const config = configuredOrExit("telemetry-ingest", loadIngestConfigFromProcess);
  const log = createLogger(config.logLevel);
  const running: { ingest?: RunningIngest } = {};
  let stopping = false;
  // Installed before the start, which can wait on an unreachable back end: a signal then ends the
  // process at once, and nothing is lost (the broker keeps what Redis has not acknowledged).
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(
      { event: "ingest_stopping", signal },
      `stopping: finishing in-flight bulks, at most ${STOP_GRACE_MS / 1000} s`,
    );
    if (!running.ingest) process.exit(0);
    void running.ingest.stop().then(() => process.exit(0));
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  running.ingest = await startIngest(config, log);
}

main().catch((error: unknown) => {
  process.stderr.write(`telemetry-ingest: ${(error as Error).message}\n`);
  process.exit(1);
});
