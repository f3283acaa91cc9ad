import { rmSync } from "node:fs";
import type { ServiceProcess } from "./service-process.ts";

/**
 * Services a test started for itself die with the test's process, and their temp directories go
 * with them, even when a test fails before its `after()` hook. `services up` does not register
 * here: its services are meant to outlive the command.
 */
const owned: Array<{ process: ServiceProcess; dir: string | undefined }> = [];
let hooked = false;

export function disposeWithTestProcess(process_: ServiceProcess, createdDir: string | undefined): void {
  owned.push({ process: process_, dir: createdDir });
  if (hooked) return;
  hooked = true;
  process.once("exit", () => {
    for (const { process: service, dir } of owned) {
      if (service.pid !== undefined) {
        try {
          process.kill(-service.pid, "SIGKILL");
        } catch {
          /* already gone */
        }
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });
}
