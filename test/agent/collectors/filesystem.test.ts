import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  FilesystemCollector,
  parseMountinfo,
  type FsStats,
  type Statfs,
} from "../../../agent/src/collectors/filesystem.ts";

const fixtures = join(import.meta.dirname, "..", "fixtures");

/** statfs answered from a recording of the fixture's host; it remembers what it was asked. */
function recordedStatfs(host: string): { statfs: Statfs; asked: string[] } {
  const recorded = JSON.parse(readFileSync(join(fixtures, host, "statfs.json"), "utf8")) as Record<
    string,
    FsStats
  >;
  const asked: string[] = [];
  const statfs: Statfs = async (path) => {
    asked.push(path);
    const stats = recorded[path];
    if (!stats) throw new Error(`ENOENT: no statfs recorded for ${path}`);
    return stats;
  };
  return { statfs, asked };
}

async function collect(host: string) {
  const { statfs, asked } = recordedStatfs(host);
  const collector = new FilesystemCollector({
    procRoot: join(fixtures, host, "proc"),
    sysRoot: "/sys",
    statfs,
  });
  await collector.start();
  return { fields: await collector.collect(), asked, sensor: collector.sensor() };
}

// used.pct is Metricbeat's: elastic-agent-system-metrics, metric/system/filesystem/filesystem.go,
// fillMetrics(): Used.Bytes = Total − Free; Used.Pct = Used.Bytes / (Used.Bytes + Avail), rounded to
// 4 decimals. It is df's Use%, not used ÷ total: blocks reserved for root count as neither.
describe("the filesystem collector", () => {
  it("reports this VM's root filesystem only: proc, sysfs, tmpfs, devpts and cgroups are not disks", async () => {
    const { fields, asked, sensor } = await collect("vm");
    assert.equal(sensor, "procfs");
    assert.deepEqual(asked, ["/"], "nothing but the ext4 root is measured");
    // statfs: 66,053,021 blocks of 4096 bytes, 59,660,958 free, 20,205,665 available (ext4 with a
    // large reservation). used = 66,053,021 − 59,660,958 = 6,392,063 blocks.
    // pct = 6,392,063 ÷ (6,392,063 + 20,205,665) = 6,392,063 ÷ 26,597,728 = 0.24032… → 0.2403
    // (used ÷ total would say 0.0968: the reserved blocks would look usable).
    assert.deepEqual(fields, [
      {
        mount_point: "/",
        device_name: "/dev/vda",
        type: "ext4",
        total: 66_053_021 * 4096,
        free: 59_660_958 * 4096,
        available: 20_205_665 * 4096,
        used: { bytes: 6_392_063 * 4096, pct: 0.2403 },
        files: 16_777_216,
        free_files: 16_262_872,
      },
    ]);
  });

  it("reports a Raspberry Pi's card, boot partition and USB disk once each, and nothing else", async () => {
    const { fields, asked } = await collect("rpi");
    // Measured: the ext4 root, the vfat boot partition, the USB disk at its shorter mount point
    // (its bind mount on /var/lib/docker is the same filesystem), and the gvfs fuse mount, whose
    // total of 0 leaves it out. Not asked: squashfs (a snap, full by construction), nfs4 (another
    // host's disk), overlay, tmpfs and the other nodev types of proc/filesystems.
    assert.deepEqual(asked.sort(), ["/", "/boot/firmware", "/mnt/usb disk", "/run/user/1000/gvfs"]);
    assert.deepEqual(fields, [
      {
        // 7,574,016 blocks, 5,123,456 free, 4,738,432 available: used 2,450,560;
        // pct = 2,450,560 ÷ 7,188,992 = 0.34087… → 0.3409.
        mount_point: "/",
        device_name: "/dev/mmcblk0p2",
        type: "ext4",
        total: 31_023_169_536,
        free: 20_985_675_776,
        available: 19_408_617_472,
        used: { bytes: 10_037_493_760, pct: 0.3409 },
        files: 1_896_832,
        free_files: 1_702_113,
      },
      {
        // vfat reserves nothing: free = available, so pct = 14,332 ÷ 130,554 = 0.10977… → 0.1098.
        // vfat has no inodes: statfs reports 0 files.
        mount_point: "/boot/firmware",
        device_name: "/dev/mmcblk0p1",
        type: "vfat",
        total: 534_749_184,
        free: 476_045_312,
        available: 476_045_312,
        used: { bytes: 58_703_872, pct: 0.1098 },
        files: 0,
        free_files: 0,
      },
      {
        // The space in the mount point is \040 in mountinfo. 122,094,592 blocks, 98,765,432 free,
        // 92,660,702 available: used 23,329,160; pct = 23,329,160 ÷ 115,989,862 = 0.20113… → 0.2011.
        mount_point: "/mnt/usb disk",
        device_name: "/dev/sda1",
        type: "ext4",
        total: 500_099_448_832,
        free: 404_543_209_472,
        available: 379_538_235_392,
        used: { bytes: 95_556_239_360, pct: 0.2011 },
        files: 30_531_584,
        free_files: 30_112_345,
      },
    ]);
  });

  it("keeps the largest filesystems when a host has more than the contract allows, and says so once", async () => {
    const lines = Array.from(
      { length: 25 },
      (_, i) => `${100 + i} 1 8:${i} / /data${String(i).padStart(2, "0")} rw - ext4 /dev/sd${i} rw`,
    );
    const warnings: unknown[] = [];
    const log = { warn: (entry: unknown) => warnings.push(entry), debug: () => {} } as never;
    const proc = mkdtempSync(join(tmpdir(), "agent-mounts-"));
    try {
      mkdirSync(join(proc, "self"));
      writeFileSync(join(proc, "self", "mountinfo"), lines.join("\n") + "\n");
      // /dataNN has NN + 1 million blocks: the largest are data24 down to data05.
      const statfs: Statfs = async (path) => {
        const blocks = (Number(path.slice(5)) + 1) * 1e6;
        return { bsize: 4096, blocks, bfree: blocks / 2, bavail: blocks / 2, files: 10, ffree: 5 };
      };
      const collector = new FilesystemCollector({ procRoot: proc, sysRoot: "/sys", statfs, log });
      await collector.start();
      const first = await collector.collect();
      await collector.collect();
      assert.deepEqual(
        first?.map((f) => f.mount_point),
        Array.from({ length: 20 }, (_, i) => `/data${String(i + 5).padStart(2, "0")}`),
      );
      assert.equal(warnings.length, 1);
      assert.deepEqual(warnings[0], {
        event: "entities_truncated",
        metric: "filesystem",
        found: 25,
        kept: 20,
      });
    } finally {
      rmSync(proc, { recursive: true, force: true });
    }
  });

  it("reads escaped paths and the fields after the optional tags of mountinfo", () => {
    assert.deepEqual(
      parseMountinfo("40 22 8:1 / /mnt/usb\\040disk rw,relatime shared:23 master:2 - ext4 /dev/sda1 rw\n"),
      [{ device: "8:1", mountPoint: "/mnt/usb disk", type: "ext4", source: "/dev/sda1" }],
    );
  });
});
