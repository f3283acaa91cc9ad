import type si from "systeminformation";

type SystemInformation = typeof si;

let loaded: Promise<SystemInformation> | undefined;

/**
 * systeminformation, loaded on first use. On Linux the collectors read /proc and /sys and never
 * call it, so the agent does not pay for evaluating its 700 KB of modules at start (measured by
 * npm run bench:agent); other platforms load it at their first sample.
 */
export function systemInformation(): Promise<SystemInformation> {
  loaded ??= import("systeminformation").then((m) => m.default);
  return loaded;
}
