import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { isListening } from "./free-port.ts";

export interface ServiceProcessOptions {
  /** Short name used in messages, e.g. "redis". */
  name: string;
  command: string;
  args: string[];
  /** stdout and stderr of the service go here. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolves true once the service answers. Polled every 200 ms. */
  isReady: () => Promise<boolean>;
  /** The port the service will listen on; start() refuses when something already listens there. */
  port?: number;
  /** How long start() waits for isReady. @defaultValue 30000 */
  readyTimeoutMs?: number;
}

export class ServiceStartError extends Error {
  constructor(
    readonly service: string,
    reason: string,
    readonly logTail: string,
  ) {
    super(`${service} did not start: ${reason}\n--- last lines of its log ---\n${logTail}`);
    this.name = "ServiceStartError";
  }
}

/**
 * One service process that the harness owns: started detached (so `services up` can exit and leave
 * it running), its output in a log file, stopped by pid. Only processes started here are ever killed.
 */
export class ServiceProcess {
  pid: number | undefined;

  constructor(readonly options: ServiceProcessOptions) {}

  static attach(options: ServiceProcessOptions, pid: number): ServiceProcess {
    const service = new ServiceProcess(options);
    service.pid = pid;
    return service;
  }

  get running(): boolean {
    return this.pid !== undefined && pidAlive(this.pid);
  }

  /** `onSpawn` is told the pid as soon as the process exists, before it is ready. */
  async start(onSpawn?: (pid: number) => void): Promise<void> {
    if (this.running) return;
    const { name, command, args, logFile, env, cwd, port } = this.options;
    // Otherwise readiness would be answered by whoever holds the port, not by our process.
    if (port !== undefined && (await isListening(port))) {
      throw new ServiceStartError(name, `port ${port} is already in use`, tail(logFile));
    }
    const log = openSync(logFile, "a");
    const child = spawn(command, args, { detached: true, stdio: ["ignore", log, log], env, cwd });
    closeSync(log);
    let exitCode: number | null | undefined;
    child.once("exit", (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
    });
    child.once("error", () => {
      exitCode = -1;
    });
    child.unref();
    this.pid = child.pid;
    if (child.pid !== undefined) onSpawn?.(child.pid);
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 30_000);
    while (Date.now() < deadline) {
      if (exitCode !== undefined) {
        throw new ServiceStartError(name, `process exited (code ${exitCode})`, tail(logFile));
      }
      if (await this.options.isReady().catch(() => false)) return;
      await sleep(200);
    }
    await this.kill();
    throw new ServiceStartError(
      name,
      `not ready within ${this.options.readyTimeoutMs ?? 30_000} ms`,
      tail(logFile),
    );
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running || this.pid === undefined) return;
    signalGroup(this.pid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (this.running && Date.now() < deadline) await sleep(100);
    if (this.running) await this.kill();
    this.pid = undefined;
  }

  /** SIGKILL: a crash, as tests of durability need it. */
  async kill(): Promise<void> {
    if (this.pid === undefined) return;
    signalGroup(this.pid, "SIGKILL");
    while (this.running) await sleep(50);
    this.pid = undefined;
  }

  /** SIGSTOP / SIGCONT: a service that hangs without closing its sockets. */
  pause(): void {
    if (this.pid !== undefined) signalGroup(this.pid, "SIGSTOP");
  }

  resume(): void {
    if (this.pid !== undefined) signalGroup(this.pid, "SIGCONT");
  }

  /** Any other signal, e.g. SIGHUP for a service that reloads its configuration on it. */
  signal(signal: NodeJS.Signals): void {
    if (this.pid !== undefined) signalGroup(this.pid, signal);
  }

  logTail(lines = 30): string {
    return tail(this.options.logFile, lines);
  }
}

/** A signal to the process group `pid` leads, or to the process alone when it leads none. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // Detached children lead their own process group; the group also holds anything they forked.
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped by a parent that is still ours) counts as gone.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return true;
  }
}

export function tail(file: string, lines = 30): string {
  if (!existsSync(file)) return "(no log)";
  const text = readFileSync(file, "utf8").trimEnd().split("\n");
  return text.slice(-lines).join("\n");
}
