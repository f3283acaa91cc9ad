import { readFileSync } from "node:fs";

/**
 * Reads a /proc file synchronously. procfs files are generated from kernel memory on read and never
 * wait on a disk, so a synchronous read is safe for the event loop and costs a third of an async
 * one (no thread-pool round trip; measured by npm run bench:agent). Not for /sys hwmon files,
 * whose drivers may talk to a slow bus (I²C) on every read.
 */
export function readProcFile(path: string): string {
  return readFileSync(path, "utf8");
}
