import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { configuredOrExit } from "@cluster-telemetry/contract/config";
import { loadImportConfigFromProcess, type ImportConfig } from "./config.ts";
import { importSavedObjects, waitForKibana } from "./kibana-api.ts";

/**
 * `npm run kibana:import -- --kibana <url>`: waits for Kibana, then imports the data view and the
 * dashboard. Exit codes: 0 imported, 1 Kibana unavailable or the import failed, 2 bad flags.
 */
async function main(): Promise<number> {
  const config: ImportConfig = configuredOrExit("kibana-import", loadImportConfigFromProcess);

  process.stderr.write(`kibana-import: waiting for Kibana at ${config.kibanaUrl}\n`);
  let lastReason = "";
  const status = await waitForKibana(config, {
    timeoutMs: config.timeoutMs,
    onRetry: (reason) => {
      // One line per new reason, not per attempt: a slow start would otherwise flood the terminal.
      if (reason !== lastReason) process.stderr.write(`kibana-import: not ready yet (${reason}), retrying\n`);
      lastReason = reason;
    },
  });
  if (!status.ok) {
    process.stderr.write(`kibana-import: ${status.message}\n`);
    return 1;
  }

  const ndjson = readFileSync(config.savedObjectsFile, "utf8");
  const imported = await importSavedObjects(config, ndjson, basename(config.savedObjectsFile));
  if (!imported.ok) {
    process.stderr.write(`kibana-import: ${imported.message}\n`);
    return 1;
  }
  const names = imported.value.map((o) => `${o.type} "${o.title ?? o.id}"`).join(", ");
  process.stdout.write(
    `kibana-import: imported ${imported.value.length} saved objects into Kibana ${status.value.version} at ${config.kibanaUrl}: ${names}\n`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`kibana-import: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
