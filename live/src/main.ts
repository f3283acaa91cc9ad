import { configuredOrExit } from "@cluster-telemetry/contract/config";
import { loadLiveConfigFromProcess } from "./config/live-config.ts";
import { startLive } from "./live.ts";
import { createLogger } from "./logging.ts";

async function main(): Promise<void> {
  const config = configuredOrExit("telemetry-live", loadLiveConfigFromProcess);
  const log = createLogger(config.logLevel);
  const live = await startLive(config, log);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ event: "live_stopping", signal }, "stopping");
    void live.stop().then(() => process.exit(0));
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`telemetry-live: ${(error as Error).message}\n`);
  process.exit(1);
});
