// Where the agent's package puts its files on a node. The build, the systemd unit's ExecStart and
// the tests name the same paths; the tests check the unit against these.

export const PACKAGE_NAME = "telemetry-agent";

/** The oldest Node.js the bundle runs on: Debian 12 and Raspberry Pi OS ship 18.19. */
export const NODE_FLOOR_MAJOR = 18;

export const INSTALLED = {
  /** The whole agent and its dependencies, one ES module; executable through its `#!/usr/bin/node`. */
  bundle: "/usr/lib/telemetry-agent/telemetry-agent.mjs",
  /** A symbolic link to the bundle, so `telemetry-agent --once` works from a shell. */
  command: "/usr/bin/telemetry-agent",
  /** Copied from deploy/systemd/telemetry-agent.service, unchanged. */
  unit: "/lib/systemd/system/telemetry-agent.service",
  /** The operator's settings: a conffile, so an upgrade keeps their edits. */
  envFile: "/etc/telemetry-agent/agent.env",
  /** The agent's state (the disk spool); owned by the agent's user. */
  stateDir: "/var/lib/telemetry-agent",
  docDir: "/usr/share/doc/telemetry-agent",
} as const;

/** The file names `npm run package:agent` writes for a version. */
export function artifactNames(version: string): { deb: string; tarball: string } {
  return { deb: `${PACKAGE_NAME}_${version}_all.deb`, tarball: `${PACKAGE_NAME}-${version}.tar.gz` };
}
