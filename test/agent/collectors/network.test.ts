import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { NetworkCollector } from "../../../agent/src/collectors/network.ts";

const fixtures = join(import.meta.dirname, "..", "fixtures");
const zero = { bytes: 0, packets: 0, errors: 0, dropped: 0 };

/** A collector over a /proc whose net/dev is replaced between readings, on a clock the test moves. */
function scenario() {
  const proc = mkdtempSync(join(tmpdir(), "agent-net-"));
  mkdirSync(join(proc, "net"));
  let now = 1_000_000;
  const collector = new NetworkCollector({ procRoot: proc, sysRoot: "/sys", clock: () => now });
  return {
    collector,
    proc,
    /** Makes `fixture`'s net/dev the current one, `ms` after the previous reading. */
    reading(fixture: string, ms: number) {
      now += ms;
      copyFileSync(join(fixtures, fixture, "net", "dev"), join(proc, "net", "dev"));
    },
  };
}

describe("the network collector", () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("reports this VM's interfaces but loopback: the cumulative counters, and their change over the interval", async () => {
    const { collector, proc, reading } = scenario();
    dirs.push(proc);
    reading("vm/proc", 0);
    await collector.start();
    reading("vm/proc-later", 10_000);
    const fields = await collector.collect();
    assert.equal(collector.sensor(), "procfs");
    assert.deepEqual(fields, [
      {
        name: "eth0",
        in: { bytes: 1_257_272_063, packets: 41_504, errors: 0, dropped: 0 },
        out: { bytes: 5_323_100, packets: 36_422, errors: 0, dropped: 0 },
        period: {
          ms: 10_000,
          // 1,257,272,063 − 1,201,434,165 bytes and 41,504 − 38,041 packets in;
          // 5,323,100 − 4,924,296 bytes and 36,422 − 33,073 packets out.
          in: { bytes: 55_837_898, packets: 3463, errors: 0, dropped: 0 },
          out: { bytes: 398_804, packets: 3349, errors: 0, dropped: 0 },
        },
      },
      { name: "ifb0", in: zero, out: zero, period: { ms: 10_000, in: zero, out: zero } },
      { name: "ifb1", in: zero, out: zero, period: { ms: 10_000, in: zero, out: zero } },
    ]);
  });

  it("gives no period to a Raspberry Pi's interface that was reset or is new, and never a negative one", async () => {
    const { collector, proc, reading } = scenario();
    dirs.push(proc);
    reading("rpi/proc", 0);
    await collector.start();
    reading("rpi/proc-later", 5000);
    const fields = await collector.collect();
    assert.deepEqual(fields, [
      {
        name: "docker0",
        in: { bytes: 522_240, packets: 4080, errors: 0, dropped: 0 },
        out: { bytes: 9_133_696, packets: 7080, errors: 0, dropped: 0 },
        // 522,240 − 512,000 and 9,133,696 − 9,123,456: 10,240 bytes each way, 80 packets.
        period: {
          ms: 5000,
          in: { bytes: 10_240, packets: 80, errors: 0, dropped: 0 },
          out: { bytes: 10_240, packets: 80, errors: 0, dropped: 0 },
        },
      },
      {
        name: "eth0",
        in: { bytes: 4_831_450_117, packets: 3_562_404, errors: 0, dropped: 13 },
        out: { bytes: 1_204_204_576, packets: 2_104_988, errors: 0, dropped: 0 },
        // 4,831,450,117 − 4,830,192,837 = 1,257,280 bytes in, 1,200 packets, one more drop;
        // 1,204,204,576 − 1,203,948,576 = 256,000 bytes out, 400 packets.
        period: {
          ms: 5000,
          in: { bytes: 1_257_280, packets: 1200, errors: 0, dropped: 1 },
          out: { bytes: 256_000, packets: 400, errors: 0, dropped: 0 },
        },
      },
      // New since the baseline (a container started): counters only.
      {
        name: "veth9f8e7d6",
        in: { bytes: 1500, packets: 12, errors: 0, dropped: 0 },
        out: { bytes: 800, packets: 9, errors: 0, dropped: 0 },
      },
      // Its counters went back to near 0 (the driver was reloaded): counters only, no period.
      {
        name: "wlan0",
        in: { bytes: 2048, packets: 16, errors: 0, dropped: 0 },
        out: { bytes: 1024, packets: 10, errors: 0, dropped: 0 },
      },
    ]);
  });

  it("keeps the busiest interfaces when a host has more than the contract allows, and says so once", async () => {
    const proc = mkdtempSync(join(tmpdir(), "agent-net-"));
    mkdirSync(join(proc, "net"));
    dirs.push(proc);
    const header = "Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n";
    // eth0 carries everything; veth00 … veth39 carry 100 × their number of bytes in.
    const veths = Array.from(
      { length: 40 },
      (_, i) => `veth${String(i).padStart(2, "0")}: ${i * 100} 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0`,
    );
    writeFileSync(
      join(proc, "net", "dev"),
      header +
        ["lo: 5 1 0 0 0 0 0 0 5 1 0 0 0 0 0 0", "eth0: 999999 9 0 0 0 0 0 0 0 0 0 0 0 0 0 0", ...veths].join(
          "\n",
        ),
    );
    const warnings: unknown[] = [];
    const log = { warn: (entry: unknown) => warnings.push(entry), debug: () => {} } as never;
    const bounded = new NetworkCollector({ procRoot: proc, sysRoot: "/sys", log });
    await bounded.start();
    const first = await bounded.collect();
    await bounded.collect();
    // 41 interfaces, 28 allowed: eth0 and the 27 busiest veths (veth13 … veth39), by name.
    assert.deepEqual(
      first?.map((i) => i.name),
      ["eth0", ...Array.from({ length: 27 }, (_, i) => `veth${i + 13}`)],
    );
    assert.deepEqual(warnings, [{ event: "entities_truncated", metric: "network", found: 41, kept: 28 }]);
  });
});
