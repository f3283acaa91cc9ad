import { createHash } from "node:crypto";
import {
  CPU_STATES,
  METRIC_NAMES,
  type CpuState,
  sampleMessages,
  status,
  statusWireMessage,
  type MetricFields,
  type MetricName,
  type Origin,
} from "@cluster-telemetry/contract";
import type { PendingMessage } from "../publish/offline-buffer.ts";
import { usage } from "../collectors/memory.ts";
import { AGENT_VERSION } from "../version.ts";
import { syntheticFields } from "./synthetic-fields.ts";
import { VirtualDisks } from "./virtual-disks.ts";
import { VirtualInterfaces } from "./virtual-interfaces.ts";

/** A small seeded generator (mulberry32): the same seed gives the same fleet, run after run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
const round1 = (x: number) => Math.round(x * 10) / 10;
const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/** The kinds of machine a cluster has, with what they plausibly report. */
const PROFILES = [
  {
    kind: "rpi",
    arch: "aarch64",
    cores: 4,
    memory: 4 * 2 ** 30,
    idleC: 42,
    fullC: 78,
    sensor: "thermal_zone0",
  },
  { kind: "node", arch: "x86_64", cores: 16, memory: 64 * 2 ** 30, idleC: 38, fullC: 85, sensor: "coretemp" },
  {
    kind: "server",
    arch: "x86_64",
    cores: 64,
    memory: 256 * 2 ** 30,
    idleC: 35,
    fullC: 80,
    sensor: "k10temp",
  },
  { kind: "vm", arch: "x86_64", cores: 2, memory: 8 * 2 ** 30, idleC: 0, fullC: 0, sensor: "none" },
] as const;

/**
 * One simulated machine: CPU load that drifts around its own base with a slow wave and noise,
 * load averages that follow it as the kernel's do (exponential decay over 1, 5 and 15 minutes),
 * a temperature that lags the load, and memory that wanders. VMs have no temperature sensor.
 */
export class VirtualHost {
  readonly profile: (typeof PROFILES)[number];
  private readonly random: () => number;
  private readonly base: number;
  private readonly period: number;
  private readonly phase: number;
  private busy: number;
  private load: [number, number, number];
  private celsius: number;
  private memoryUsed: number;
  private readonly disks: VirtualDisks;
  private readonly interfaces: VirtualInterfaces;
  private now = 0;
  offlineUntil = 0;
  /** A machine id of the host's own, the same for the same name (32 hex digits, as /etc/machine-id). */
  private readonly machineId: string;

  constructor(
    readonly name: string,
    seed: number,
  ) {
    this.random = seededRandom(seed);
    this.machineId = createHash("sha256").update(name).digest("hex").slice(0, 32);
    this.profile = PROFILES[Math.floor(this.random() * PROFILES.length)]!;
    this.base = 0.05 + this.random() * 0.6;
    this.period = 300_000 + this.random() * 3_300_000;
    this.phase = this.random() * 2 * Math.PI;
    this.busy = this.base;
    this.load = [
      this.base * this.profile.cores,
      this.base * this.profile.cores,
      this.base * this.profile.cores,
    ];
    this.celsius = this.profile.idleC + (this.profile.fullC - this.profile.idleC) * this.base;
    this.memoryUsed = this.profile.memory * (0.2 + this.random() * 0.5);
    this.disks = new VirtualDisks(this.profile.kind, this.random);
    this.interfaces = new VirtualInterfaces(this.profile.kind, this.random);
  }

  private step(now: number, intervalMs: number): void {
    this.now = now;
    const wave = 0.25 * Math.sin((2 * Math.PI * now) / this.period + this.phase);
    const spike = this.random() < 0.01 ? 0.4 : 0;
    this.busy = clamp01(this.base + wave + spike + (this.random() - 0.5) * 0.1);
    const running = this.busy * this.profile.cores;
    this.load = [60, 300, 900].map((s, i) => {
      const decay = Math.exp(-intervalMs / 1000 / s);
      return this.load[i]! * decay + running * (1 - decay);
    }) as [number, number, number];
    const target = this.profile.idleC + (this.profile.fullC - this.profile.idleC) * this.busy;
    this.celsius += (target - this.celsius) * 0.2 + (this.random() - 0.5) * 0.4;
    this.memoryUsed = Math.min(
      this.profile.memory * 0.95,
      Math.max(
        this.profile.memory * 0.1,
        this.memoryUsed + (this.random() - 0.5) * this.profile.memory * 0.01,
      ),
    );
  }

  private origin(intervalMs: number): Origin {
    return {
      host: { name: this.name, id: this.machineId, architecture: this.profile.arch },
      agent: { type: "telemetry-simulator", version: AGENT_VERSION },
      periodMs: intervalMs,
    };
  }

  /**
   * Plausible fields per metric, consistent with one another (load follows CPU, temperature lags
   * it). A metric without a model here is drawn from its schema (synthetic-fields.ts); undefined
   * means the host has no such sensor.
   */
  private readonly models: { [M in MetricName]?: () => MetricFields<M> | undefined } = {
    cpu: () => {
      const { cores } = this.profile;
      const shares = this.cpuShares(this.busy);
      const states = Object.fromEntries(
        CPU_STATES.map((state) => [
          state,
          { pct: round4(shares[state] * cores), norm: { pct: round4(shares[state]) } },
        ]),
      ) as Omit<MetricFields<"cpu">, "cores" | "total">;
      const busy = 1 - shares.idle - shares.iowait;
      return { cores, total: { pct: round4(busy * cores), norm: { pct: round4(busy) } }, ...states };
    },
    core: () =>
      Array.from({ length: this.profile.cores }, (_, id) => {
        const shares = this.cpuShares(clamp01(this.busy + (this.random() - 0.5) * 0.2));
        const states = Object.fromEntries(CPU_STATES.map((state) => [state, { pct: round4(shares[state]) }]));
        return {
          id,
          total: { pct: round4(1 - shares.idle - shares.iowait) },
          ...states,
        } as MetricFields<"core">[number];
      }),
    load: () => {
      const { cores } = this.profile;
      const [one, five, fifteen] = this.load;
      return {
        "1": round4(one),
        "5": round4(five),
        "15": round4(fifteen),
        cores,
        norm: { "1": round4(one / cores), "5": round4(five / cores), "15": round4(fifteen / cores) },
      };
    },
    memory: () => {
      const { memory } = this.profile;
      const available = Math.round(memory - this.memoryUsed);
      // Page cache takes a fifth of what is available: counted in used, not in actual.used.
      const free = Math.round(available * 0.8);
      // Swap a quarter of memory, a little of it used once memory is short.
      const swap = memory / 4;
      const swapFree = Math.round(swap * (1 - Math.max(0, this.memoryUsed / memory - 0.7)));
      return {
        total: memory,
        free,
        used: usage(memory, free),
        actual: { free: available, used: usage(memory, available) },
        swap: { total: swap, free: swapFree, used: usage(swap, swapFree) },
      };
    },
    filesystem: () => this.disks.fields(),
    network: () => this.interfaces.fields(this.now, this.busy),
    temperature_sensor: () => this.sensorInputs(),
    temperature: () =>
      this.profile.sensor === "none"
        ? undefined
        : {
            celsius: round1(this.celsius),
            max: { celsius: round1(this.celsius + 2) },
            sensor: this.profile.sensor,
          },
  };

  /**
   * A busy fraction split into /proc/stat's states as a loaded Linux host plausibly shows them:
   * mostly user, a fifth system, a little nice, interrupts and (on a VM) steal; 2 % iowait.
   */
  private cpuShares(busy: number): Record<CpuState, number> {
    const iowait = Math.min(0.02, 1 - busy);
    const steal = this.profile.kind === "vm" ? busy * 0.05 : 0;
    const rest = busy - steal;
    return {
      user: rest * 0.7,
      system: rest * 0.2,
      nice: rest * 0.04,
      irq: rest * 0.01,
      softirq: rest * 0.05,
      steal,
      iowait,
      idle: Math.max(0, 1 - busy - iowait),
    };
  }

  /**
   * The inputs of the host's sensor, around its main temperature: a Pi's one thermal zone; the
   * package and each physical core (half the logical ones) of coretemp; Tctl of k10temp.
   */
  private sensorInputs(): MetricFields<"temperature_sensor"> | undefined {
    const { sensor, cores } = this.profile;
    if (sensor === "none") return undefined;
    const main = round1(this.celsius);
    if (sensor === "thermal_zone0") return [{ id: "thermal_zone0", chip: "cpu-thermal", celsius: main }];
    const label = sensor === "coretemp" ? "Package id 0" : "Tctl";
    const physical = sensor === "coretemp" ? Array.from({ length: cores / 2 }, (_, core) => core) : [];
    return [
      { id: "hwmon1/temp1", chip: sensor, label, celsius: main },
      ...physical.map((core) => ({
        id: `hwmon1/temp${core + 2}`,
        chip: sensor,
        label: `Core ${core}`,
        celsius: round1(main - 3 + this.random() * 4),
      })),
    ];
  }

  private fields<M extends MetricName>(metric: M): MetricFields<M> | undefined {
    const model = this.models[metric] as (() => MetricFields<M> | undefined) | undefined;
    return model ? model() : syntheticFields(metric, this.random);
  }

  /** One interval's samples, one message per metric, as the real agent publishes them. */
  samples(now: number, intervalMs: number): PendingMessage[] {
    this.step(now, intervalMs);
    const out: PendingMessage[] = [];
    for (const metric of METRIC_NAMES) {
      const fields = this.fields(metric);
      if (fields !== undefined) out.push(...sampleMessages(metric, this.origin(intervalMs), fields, now));
    }
    return out;
  }

  /** The retained status, as the real agent keeps it. */
  status(state: "online" | "offline", now: number, intervalMs: number): PendingMessage {
    const sensors = Object.fromEntries(
      METRIC_NAMES.map((metric) => [
        metric,
        metric === "temperature" || metric === "temperature_sensor" ? this.profile.sensor : "procfs",
      ]),
    );
    return statusWireMessage(
      status(
        this.origin(intervalMs),
        { status: state, interval: { ms: intervalMs }, sensors, buffer: { dropped: 0 } },
        now,
      ),
    );
  }
}
