// The reaper of one `npm start`: a small detached process that holds the read end of a pipe from
// its owner. The pipe closes when the owner dies, however it dies (kill -9 included); the reaper
// then ends the children and services recorded in the owner's run file, so none outlives it.
//
//   node --import tsx deploy/local/reaper.ts <data dir> <owner pid>
import { appendFileSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { endLeftovers, runFile } from "./run-state.ts";

const [dir, ownerText] = process.argv.slice(2);
const owner = Number(ownerText);

process.stdin.resume();
// Detached, in its own process group: a terminal's Ctrl-C reaches the owner, not the reaper.
process.stdin.on("close", () => void reap());

async function reap(): Promise<void> {
  if (!dir) process.exit(2);
  let recordedOwner: number | undefined;
  try {
    recordedOwner = (JSON.parse(readFileSync(runFile(dir), "utf8")) as { pid: number }).pid;
  } catch {
    // No run file: the owner released the directory after stopping everything.
  }
  if (recordedOwner === owner) {
    const ended = await endLeftovers(dir);
    rmSync(runFile(dir), { force: true });
    appendFileSync(
      join(dir, "reaper.log"),
      `${new Date().toISOString()} npm start (pid ${owner}) ended without stopping; ended ${ended.join(", ") || "nothing"}\n`,
    );
  }
  process.exit(0);
}
