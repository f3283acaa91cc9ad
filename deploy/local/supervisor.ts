import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";

const root = resolve(import.meta.dirname, "..", "..");

/** One program `npm start` runs and keeps running. */
export interface ChildSpec {
  /** Short name in messages, e.g. "ingest". */
  name: string;
  /** TypeScript entry point, relative to the repository root. */
  entry: string;
  args: string[];
  /** Added to the environment every child gets. */
  env?: NodeJS.ProcessEnv;
}

export interface SupervisorOptions {
  env: NodeJS.ProcessEnv;
  /** Restarts of one child allowed within `restartWindowMs`; one more ends the run. @defaultValue 5 */
  maxRestarts?: number;
  /** @defaultValue 60000 */
  restartWindowMs?: number;
  /** How long a child may take to stop after SIGTERM before it is killed, in ms. @defaultValue 15000 */
  stopGraceMs?: number;
  /** A line for the user (stderr): a child died, was restarted, or was given up. */
  report: (line: string) => void;
  /** Told every child's current pid after each (re)start, so that leftovers can be found later. */
  onPids: (pids: Record<string, number>) => void;
  /** A child exceeded its restarts. */
  onGiveUp: (name: string) => void;
}

interface Running {
  spec: ChildSpec;
  child: ChildProcess;
  exited: Promise<void>;
  restarts: number[];
}

/**
 * Runs each child in its own process group (a terminal's Ctrl-C reaches only `npm start`, which
 * decides the order of the stop), restarts a child that dies, within a limit, and stops them all
 * within a bounded time.
 */
export class Supervisor {
  private readonly running = new Map<string, Running>();
  private stopping = false;

  constructor(private readonly options: SupervisorOptions) {}

  start(specs: ChildSpec[]): void {
    for (const spec of specs) this.spawn(spec, []);
  }

  pids(): Record<string, number> {
    return Object.fromEntries([...this.running].map(([name, r]) => [name, r.child.pid ?? 0]));
  }

  private spawn(spec: ChildSpec, restarts: number[]): void {
    const child = spawn(process.execPath, ["--import", "tsx", spec.entry, ...spec.args], {
      cwd: root,
      env: { ...this.options.env, ...spec.env },
      stdio: ["ignore", "inherit", "inherit"],
      detached: true,
    });
    const exited = new Promise<void>((r) => {
      child.once("exit", (code, signal) => {
        r();
        this.exited(spec, code, signal);
      });
      child.once("error", (error) => {
        this.options.report(`${spec.name}: could not be started: ${error.message}`);
      });
    });
    this.running.set(spec.name, { spec, child, exited, restarts });
    this.options.onPids(this.pids());
  }

  private exited(spec: ChildSpec, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping) return;
    const entry = this.running.get(spec.name);
    const windowMs = this.options.restartWindowMs ?? 60_000;
    const max = this.options.maxRestarts ?? 5;
    const recent = (entry?.restarts ?? []).filter((t) => Date.now() - t < windowMs);
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    if (recent.length >= max) {
      this.options.report(
        `${spec.name} ${how}; it was restarted ${max} times within ${windowMs / 1000} s, so npm start gives up`,
      );
      this.options.onGiveUp(spec.name);
      return;
    }
    this.options.report(
      `${spec.name} ${how}; restarting it (restart ${recent.length + 1} of ${max} allowed within ${windowMs / 1000} s)`,
    );
    // A short pause, so that a child failing at once does not spin.
    setTimeout(() => {
      if (!this.stopping) this.spawn(spec, [...recent, Date.now()]);
    }, 1000);
  }

  /** SIGTERM to every child's group, then SIGKILL to what is left after the grace period. */
  async stop(): Promise<void> {
    this.stopping = true;
    const all = [...this.running.values()].filter(
      (r) => r.child.exitCode === null && r.child.signalCode === null,
    );
    for (const r of all) signalGroup(r.child, "SIGTERM");
    const grace = new Promise<"late">((r) =>
      setTimeout(() => r("late"), this.options.stopGraceMs ?? 15_000).unref(),
    );
    await Promise.all(
      all.map(async (r) => {
        if ((await Promise.race([r.exited, grace])) === "late") {
          this.options.report(`${r.spec.name} did not stop within the grace period; killing it`);
          signalGroup(r.child, "SIGKILL");
          await r.exited;
        }
      }),
    );
  }

  /** Second Ctrl-C: no waiting. */
  kill(): void {
    this.stopping = true;
    for (const r of this.running.values()) signalGroup(r.child, "SIGKILL");
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone: the child exited and took its own children with it.
  }
}
