/** Reconnect delay after `failures` consecutive failed attempts: doubling from `initialMs`, capped. */
export function reconnectDelay(failures: number, initialMs = 1000, maxMs = 60_000): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, Math.min(failures, 30)));
}
