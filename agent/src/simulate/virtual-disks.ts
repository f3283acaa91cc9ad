import type { MetricFields } from "@cluster-telemetry/contract";
import { filesystemEntity, type FsStats, type Mount } from "../collectors/filesystem.ts";

const GiB = 2 ** 30;
const BLOCK = 4096;

/** The filesystems each kind of machine plausibly has: mount, and size in GiB. */
const LAYOUTS: Record<string, Array<{ mount: Mount; gib: number }>> = {
  rpi: [
    { mount: { device: "179:2", mountPoint: "/", type: "ext4", source: "/dev/mmcblk0p2" }, gib: 29 },
    {
      mount: { device: "179:1", mountPoint: "/boot/firmware", type: "vfat", source: "/dev/mmcblk0p1" },
      gib: 0.5,
    },
  ],
  node: [
    { mount: { device: "259:2", mountPoint: "/", type: "ext4", source: "/dev/nvme0n1p2" }, gib: 460 },
    { mount: { device: "259:1", mountPoint: "/boot/efi", type: "vfat", source: "/dev/nvme0n1p1" }, gib: 0.5 },
  ],
  server: [
    { mount: { device: "8:2", mountPoint: "/", type: "ext4", source: "/dev/sda2" }, gib: 220 },
    {
      mount: { device: "253:0", mountPoint: "/data", type: "xfs", source: "/dev/mapper/data-vol" },
      gib: 7450,
    },
  ],
  vm: [{ mount: { device: "254:1", mountPoint: "/", type: "ext4", source: "/dev/vda1" }, gib: 62 }],
};

/**
 * A simulated machine's disks: each starts between a fifth and four fifths full and fills slowly
 * (logs, images) with now and then a clean-up, as statfs would report it, ext4 reserving 5 % for
 * root (so used.pct is Metricbeat's used ÷ (used + available)).
 */
export class VirtualDisks {
  private readonly disks: Array<{ mount: Mount; blocks: number; reserved: number; used: number }>;

  constructor(
    kind: string,
    private readonly random: () => number,
  ) {
    this.disks = (LAYOUTS[kind] ?? LAYOUTS.vm!).map(({ mount, gib }) => {
      const blocks = Math.round((gib * GiB) / BLOCK);
      const reserved = mount.type === "ext4" ? Math.round(blocks * 0.05) : 0;
      return { mount, blocks, reserved, used: Math.round((blocks - reserved) * (0.2 + random() * 0.6)) };
    });
  }

  fields(): MetricFields<"filesystem"> {
    return this.disks.map((disk) => {
      const fillable = disk.blocks - disk.reserved;
      const cleanUp = this.random() < 0.002 ? -0.05 * fillable : 0;
      const growth = this.random() * 1e-5 * fillable;
      disk.used = Math.round(Math.min(fillable, Math.max(0, disk.used + growth + cleanUp)));
      const free = disk.blocks - disk.used;
      const stats: FsStats = {
        bsize: BLOCK,
        blocks: disk.blocks,
        bfree: free,
        bavail: free - disk.reserved,
        files: disk.mount.type === "vfat" ? 0 : Math.round(disk.blocks / 4),
        ffree: disk.mount.type === "vfat" ? 0 : Math.round(free / 4),
      };
      return filesystemEntity(disk.mount, stats);
    });
  }
}
