import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * Makes sure a Debian package's binary is present, installing the package when it is not.
 * CI and new machines start without some of them; everything the tests need is installed from here.
 */
export function ensureDebianBinary(binary: string, packageName: string): string {
  const found = which(binary);
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(`${binary} is missing; install it with: sudo apt-get install -y ${packageName}`);
  }
  process.stderr.write(`harness: installing ${packageName} (for ${binary})\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  // The package lists may be absent or stale on a fresh machine.
  spawnSync("apt-get", ["update", "-qq"], { stdio: ["ignore", "ignore", "inherit"], env });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", packageName], {
    stdio: ["ignore", "ignore", "inherit"],
    env,
  });
  const installed = which(binary);
  if (!installed) throw new Error(`installed ${packageName} but ${binary} is still not on PATH`);
  return installed;
}

export function which(binary: string): string | undefined {
  for (const dir of ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin", "/sbin", "/bin"]) {
    const candidate = `${dir}/${binary}`;
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}
