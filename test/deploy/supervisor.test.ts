import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Supervisor } from "../../deploy/local/supervisor.ts";

describe("npm start's supervisor", () => {
  it("restarts a child that keeps failing up to its limit, then gives up and says why", async () => {
    const lines: string[] = [];
    let pids = 0;
    const gaveUp = new Promise<string>((resolve) => {
      const supervisor = new Supervisor({
        env: process.env,
        maxRestarts: 2,
        restartWindowMs: 60_000,
        report: (line) => lines.push(line),
        onPids: () => (pids += 1),
        onGiveUp: resolve,
      });
      // A real program that exits at once: the agent refuses an interval of 0 with exit code 2.
      supervisor.start([{ name: "agent", entry: "agent/src/main.ts", args: ["--interval", "0"] }]);
    });
    assert.equal(await gaveUp, "agent");
    assert.equal(pids, 3, "started once and restarted twice");
    assert.deepEqual(lines, [
      "agent exited with code 2; restarting it (restart 1 of 2 allowed within 60 s)",
      "agent exited with code 2; restarting it (restart 2 of 2 allowed within 60 s)",
      "agent exited with code 2; it was restarted 2 times within 60 s, so npm start gives up",
    ]);
  });
});
