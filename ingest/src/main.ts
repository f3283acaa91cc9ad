import { configuredOrExit } from "../../agent/src/config/problems.ts";
import { loadIngestConfigFromProcess } from "./config/ingest-config.ts";
import { createLogger } from "./logging.ts";
import { startIngest } from "./pipeline.ts";

async function main(): Promise<void> {
  const config = configuredOrExit("telemetry-ingest", loadIngestConfigFromProcess);
  const log = createLogger(config.logLevel);
  const ingest = await startIngest(config, log);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ event: "ingest_stopping", signal }, "stopping: finishing in-flight bulks");
    void ingest.stop().then(() => process.exit(0));
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`telemetry-ingest: ${(error as Error).message}\n`);
  process.exit(1);
});
