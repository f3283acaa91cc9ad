import { promises as fsPromises } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import type { MetricFields } from "@cluster-telemetry/contract";
import type { Collector, CollectorOptions } from "./collector.ts";
import { EntityBound } from "./entity-bound.ts";
import { readProcFile } from "./procfs.ts";

/** Exactly the contract's fields of the filesystem metric: one entry per mounted filesystem. */
export type FilesystemFields = MetricFields<"filesystem">;

/** What statfs(2) says of a mount point: the part of node's `fs.StatsFs` the metric uses. */
export interface FsStats {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

export type Statfs = (path: string) => Promise<FsStats>;

export interface FilesystemCollectorOptions extends CollectorOptions {
  /** statfs(2) of a mount point. @defaultValue node's `fs.promises.statfs` */
  statfs?: Statfs;
}

/** One line of /proc/self/mountinfo (proc(5)). */
export interface Mount {
  /** major:minor of the device: the same for every bind mount of one filesystem. */
  device: string;
  mountPoint: string;
  type: string;
  source: string;
}

/**
 * Filesystem types with no capacity of their own to report, when the kernel's list
 * (<proc>/filesystems) cannot be read: the `nodev` types of a Linux 6 kernel.
 */
const NODEV_FALLBACK = [
  "sysfs",
  "tmpfs",
  "bdev",
  "proc",
  "cgroup",
  "cgroup2",
  "cpuset",
  "devtmpfs",
  "configfs",
  "debugfs",
  "tracefs",
  "securityfs",
  "sockfs",
  "bpf",
  "pipefs",
  "ramfs",
  "hugetlbfs",
  "devpts",
  "autofs",
  "mqueue",
  "pstore",
  "fuse",
  "fusectl",
  "overlay",
  "nfs",
  "nfs4",
  "cifs",
  "smb3",
  "efivarfs",
  "binfmt_misc",
];

/**
 * Read-only compressed images (snap packages, live systems) are full by construction: reported,
 * each would show as a disk at 100 % on the dashboard. Metricbeat reports them; we do not.
 */
const IMAGE_TYPES = ["squashfs", "erofs"];

/** mountinfo escapes space, tab, newline and backslash in paths as \ooo. */
const unescape = (path: string) =>
  path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/** Parses /proc/self/mountinfo: `id parent major:minor root mount-point options [tags] - type source super-options`. */
export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(" ");
    const separator = fields.indexOf("-", 6);
    if (separator < 0 || fields.length < separator + 3) continue;
    mounts.push({
      device: fields[2]!,
      mountPoint: unescape(fields[4]!),
      type: fields[separator + 1]!,
      source: unescape(fields[separator + 2]!),
    });
  }
  return mounts;
}

/** The filesystem types <proc>/filesystems marks `nodev`: no block device, nothing to measure. */
export function parseNodevTypes(text: string): Set<string> {
  const types = new Set<string>();
  for (const line of text.split("\n")) {
    const [flag, type] = line.split("\t");
    if (flag === "nodev" && type) types.add(type.trim());
  }
  return types;
}

/**
 * The mounts worth measuring, in mount order: like Metricbeat's default, every type the kernel
 * marks `nodev` is left out (proc, sysfs, tmpfs and devtmpfs are memory, cgroup and the like are
 * interfaces, overlay is a container's view of a disk measured once already, nfs and cifs are
 * another host's disks, whose statfs can hang on a lost server); so are read-only images and
 * relative mount points (other network namespaces). A filesystem mounted more than once (a bind
 * mount) is measured once, at its shortest mount point, as Metricbeat does.
 */
export function measurableMounts(mounts: Mount[], nodev: Set<string>): Mount[] {
  const chosen = new Map<string, Mount>();
  for (const mount of mounts) {
    if (!mount.mountPoint.startsWith("/")) continue;
    if (nodev.has(mount.type) || IMAGE_TYPES.includes(mount.type)) continue;
    // One block device, or one anonymous device (btrfs subvolume, fuse), is one filesystem.
    const identity = mount.source.startsWith("/") ? mount.source : mount.device;
    const seen = chosen.get(identity);
    if (!seen || mount.mountPoint.length < seen.mountPoint.length) chosen.set(identity, mount);
  }
  return [...chosen.values()];
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/**
 * Metricbeat's fields from statfs: bytes are blocks × f_bsize; used.bytes is total − free, and
 * used.pct is used ÷ (used + available), the share of what non-root users can fill (df's Use%).
 */
export function filesystemEntity(mount: Mount, stats: FsStats): FilesystemFields[number] {
  const usedBlocks = Math.max(0, stats.blocks - stats.bfree);
  const fillable = usedBlocks + stats.bavail;
  return {
    mount_point: mount.mountPoint,
    device_name: mount.source,
    type: mount.type,
    total: stats.blocks * stats.bsize,
    free: stats.bfree * stats.bsize,
    available: stats.bavail * stats.bsize,
    used: { bytes: usedBlocks * stats.bsize, pct: fillable > 0 ? round4(usedBlocks / fillable) : 0 },
    files: stats.files,
    free_files: stats.ffree,
  };
}

/**
 * Capacity of every real filesystem of the host (Metricbeat's `filesystem` metricset), from
 * <proc>/self/mountinfo and statfs(2) of each mount point. Linux only; elsewhere the host reports
 * no filesystem metric (sensor "none").
 */
export class FilesystemCollector implements Collector<"filesystem"> {
  readonly metric = "filesystem";
  private readonly mountinfo: string;
  private readonly filesystems: string;
  private readonly statfs: Statfs | undefined;
  private readonly bound: EntityBound;
  private readonly log: Logger | undefined;
  private source = "none";

  constructor(options: FilesystemCollectorOptions) {
    this.mountinfo = join(options.procRoot, "self", "mountinfo");
    this.filesystems = join(options.procRoot, "filesystems");
    // fs.statfs came with Node 18.15; the package's floor is Node 18 (Debian 12 ships 18.19). A
    // named import would fail the whole agent at load on an older 18, so it is looked up here.
    const nodeStatfs = (fsPromises as { statfs?: Statfs }).statfs;
    this.statfs = options.statfs ?? nodeStatfs?.bind(fsPromises);
    this.bound = new EntityBound(this.metric, "largest", options.log);
    this.log = options.log;
  }

  async start(): Promise<void> {
    if (process.platform !== "linux") return;
    if (!this.statfs) {
      this.log?.warn(
        { event: "statfs_unavailable", metric: this.metric, node: process.version },
        "fs.statfs needs Node.js 18.15 or newer; not reporting filesystem",
      );
      return;
    }
    try {
      readProcFile(this.mountinfo);
      this.source = "procfs";
    } catch {
      this.source = "none";
    }
  }

  private nodevTypes(): Set<string> {
    try {
      return parseNodevTypes(readProcFile(this.filesystems));
    } catch {
      return new Set(NODEV_FALLBACK);
    }
  }

  async collect(): Promise<FilesystemFields | undefined> {
    if (this.source === "none" || !this.statfs) return undefined;
    const mounts = measurableMounts(parseMountinfo(readProcFile(this.mountinfo)), this.nodevTypes());
    const measured: FilesystemFields = [];
    for (const mount of mounts) {
      let stats: FsStats;
      try {
        stats = await this.statfs(mount.mountPoint);
      } catch (error) {
        // Unmounted since mountinfo was read, or not reachable from this mount namespace.
        this.log?.debug(
          { event: "statfs_failed", mount_point: mount.mountPoint, err: (error as Error).message },
          "filesystem not measured",
        );
        continue;
      }
      if (stats.blocks > 0) measured.push(filesystemEntity(mount, stats));
    }
    if (measured.length === 0) return undefined;
    return this.bound
      .keep(measured.sort((a, b) => b.total - a.total))
      .sort((a, b) => (a.mount_point < b.mount_point ? -1 : a.mount_point > b.mount_point ? 1 : 0));
  }

  sensor(): string {
    return this.source;
  }
}
