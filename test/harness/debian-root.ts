import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ensureDebianBinary } from "./debian.ts";

/**
 * A Debian 12 root as a Raspberry Pi OS or Debian node has it: built once with mmdebstrap (the
 * essential packages and apt, nothing else), with apt's lists and, downloaded but not installed,
 * the nodejs and adduser packages, so `apt install ./x.deb` inside it resolves them as on a node
 * (and needs no network on later runs). Cached outside the repository, under
 * $XDG_CACHE_HOME/cluster-telemetry (~/.cache by default), keyed by everything that shapes it;
 * CI keeps that directory between runs.
 */
export interface DebianRootOptions {
  /** @defaultValue "bookworm" (Debian 12, which Raspberry Pi OS 12 follows) */
  suite?: string;
  /** @defaultValue $DEBIAN_MIRROR or http://deb.debian.org/debian */
  mirror?: string;
}

/** Packages resolved by apt during the tests, fetched once into the cached root's apt cache. */
const PREFETCHED = ["nodejs", "adduser"];

/** Returns the cached root's directory, building it first when missing (about a minute). */
export function cachedDebianRoot(options: DebianRootOptions = {}): string {
  const suite = options.suite ?? "bookworm";
  const mirror = options.mirror ?? process.env.DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
  const mmdebstrap = ensureDebianBinary("mmdebstrap", "mmdebstrap");
  const args = [
    "--variant=apt",
    "--skip=cleanup/apt/lists,cleanup/apt/cache",
    `--customize-hook=chroot "$1" apt-get install --download-only --yes --quiet ${PREFETCHED.join(" ")}`,
    suite,
  ];
  const tool = execFileSync(mmdebstrap, ["--version"], { encoding: "utf8" }).trim();
  const key = createHash("sha256").update(JSON.stringify({ tool, args, mirror })).digest("hex").slice(0, 16);
  const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "cluster-telemetry");
  const root = join(cache, `debian-${suite}-${key}`);
  if (existsSync(join(root, "usr/bin/apt-get"))) return root;
  mkdirSync(cache, { recursive: true });
  const building = `${root}.${process.pid}.tmp`;
  rmSync(building, { recursive: true, force: true });
  process.stderr.write(`harness: building a Debian ${suite} root with mmdebstrap in ${root}\n`);
  execFileSync(mmdebstrap, [...args, building, mirror], { stdio: ["ignore", "ignore", "inherit"] });
  renameSync(building, root);
  return root;
}

export interface ChrootRun {
  code: number;
  output: string;
}

/**
 * A throwaway system on top of the cached root: an overlay whose changes land in a temporary
 * directory, mounted with /proc, /sys and /dev inside a private mount namespace (unshare), so every
 * mount disappears with the command, even on a crash. The host's network is shared: the harness
 * broker on 127.0.0.1 is reachable. `shared` is bind-mounted at /mnt for files from the host.
 */
export class DebianChroot {
  private readonly dir: string;
  readonly shared: string;

  constructor(private readonly lower: string) {
    if (process.getuid?.() !== 0) throw new Error("the Debian root tests mount and chroot: run them as root");
    this.dir = mkdtempSync(join(tmpdir(), "debian-chroot-"));
    for (const sub of ["upper", "work", "merged", "shared"]) mkdirSync(join(this.dir, sub));
    this.shared = join(this.dir, "shared");
  }

  /** Runs a shell command line as root inside the system; resolves with its exit code and output. */
  sh(script: string): Promise<ChrootRun> {
    return this.run(`exec chroot "$m" /bin/sh -c ${quote(script)}`);
  }

  /** Starts a long-running command inside; every step execs, so a signal to the child reaches it. */
  spawn(script: string): ChildProcess {
    return spawn("unshare", this.unshareArgs(`exec chroot "$m" /bin/sh -c ${quote(script)}`), {
      stdio: ["ignore", "pipe", "pipe"],
    });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async run(last: string): Promise<ChrootRun> {
    try {
      const { stdout, stderr } = await promisify(execFile)("unshare", this.unshareArgs(last), {
        maxBuffer: 32 << 20,
      });
      return { code: 0, output: stdout + stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === "number" ? e.code : -1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
    }
  }

  /** The mounts, then `last` (which may use $m, the system's root). */
  private unshareArgs(last: string): string[] {
    const setup = [
      "set -e",
      `m=${this.dir}/merged`,
      `mount -t overlay overlay -o lowerdir=${this.lower},upperdir=${this.dir}/upper,workdir=${this.dir}/work "$m"`,
      'mount -t proc proc "$m/proc"',
      'mount --rbind /sys "$m/sys"',
      'mount --rbind /dev "$m/dev"',
      `mount --bind ${this.shared} "$m/mnt"`,
      'cp /etc/resolv.conf "$m/etc/resolv.conf"',
      last,
    ].join("\n");
    return ["--mount", "--propagation", "private", "/bin/sh", "-c", setup];
  }
}

/** One shell word. */
function quote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}
