import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The host's machine id, or why there is none. */
export type MachineId = { id: string; absent?: undefined } | { id?: undefined; absent: string };

// systemd and D-Bus write 32 lowercase hex digits; a first boot that has not finished leaves
// "uninitialized", and an image built to be cloned leaves the file empty so each clone gets its own.
const MACHINE_ID = /^[0-9a-f]{32}$/;

/**
 * Reads `<etcRoot>/machine-id` (ECS `host.id`): read once at start, since it does not change while
 * the host runs. A host without one (a container, an image awaiting its first boot) sends no host.id.
 */
export function readMachineId(etcRoot: string): MachineId {
  const file = join(etcRoot, "machine-id");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    return {
      absent: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    };
  }
  const id = text.trim();
  if (!MACHINE_ID.test(id)) return { absent: `${file} does not hold a machine id (32 hex digits)` };
  return { id };
}
