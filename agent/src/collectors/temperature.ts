import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { systemInformation } from "./system-information.ts";
import type { Collector, CollectorOptions } from "./collector.ts";
import type { MetricFields } from "@cluster-telemetry/contract";

/** Exactly the contract's fields of the temperature metric. */
export type TemperatureFields = MetricFields<"temperature">;

/** hwmon drivers that report the CPU package (x86, AMD) or an ARM SoC. */
const CPU_HWMON = new Set([
  "coretemp",
  "k10temp",
  "zenpower",
  "cpu_thermal",
  "soc_thermal",
  "cpu-thermal",
  "scpi_sensors",
]);

/** Missing or broken sensors report 0, -1, or absurd values: such a reading is no reading. */
export function plausibleCelsius(value: number): boolean {
  return Number.isFinite(value) && value > -60 && value <= 150 && value !== 0 && value !== -1;
}

const round = (x: number) => Math.round(x * 10) / 10;

/** One temperature input of a sensor, as the temperature_sensor metric reports it. */
export type SensorInput = MetricFields<"temperature_sensor">[number];

/** A sensor's readings: the main one, and every input with its identity. */
export interface Reading {
  sensor: string;
  main: number;
  inputs: SensorInput[];
}

async function readNumber(file: string): Promise<number | undefined> {
  try {
    const value = Number((await readFile(file, "utf8")).trim());
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, "utf8")).trim();
  } catch {
    return undefined;
  }
}

async function list(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  } catch {
    return [];
  }
}

/** A CPU hwmon device: package (or Tdie/Tctl) as main, every plausible input with its label. */
async function readHwmon(sysRoot: string): Promise<Reading | undefined> {
  const base = join(sysRoot, "class", "hwmon");
  for (const device of await list(base)) {
    const dir = join(base, device);
    const name = await readText(join(dir, "name"));
    if (!name || !CPU_HWMON.has(name)) continue;
    const files = (await list(dir)).filter((f) => /^temp\d+_input$/.test(f));
    let main: number | undefined;
    const inputs: SensorInput[] = [];
    for (const file of files) {
      const milli = await readNumber(join(dir, file));
      if (milli === undefined) continue;
      const celsius = milli / 1000;
      if (!plausibleCelsius(celsius)) continue;
      const label = (await readText(join(dir, file.replace("_input", "_label")))) ?? "";
      const id = `${device}/${file.replace("_input", "")}`;
      inputs.push({ id, chip: name, ...(label ? { label } : {}), celsius: round(celsius) });
      if (main === undefined && /^(Package id \d+|Tdie|Tctl|)$/.test(label)) main = celsius;
    }
    if (inputs.length === 0) continue;
    return { sensor: name, main: main ?? Math.max(...inputs.map((i) => i.celsius)), inputs };
  }
  return undefined;
}

/** A thermal zone: on a Raspberry Pi, thermal_zone0 is the SoC ("cpu-thermal"). */
async function readThermalZones(sysRoot: string): Promise<Reading | undefined> {
  const base = join(sysRoot, "class", "thermal");
  const zones = (await list(base)).filter((z) => z.startsWith("thermal_zone"));
  const readings: Array<{ zone: string; type: string; celsius: number }> = [];
  for (const zone of zones) {
    const milli = await readNumber(join(base, zone, "temp"));
    if (milli === undefined || !plausibleCelsius(milli / 1000)) continue;
    readings.push({ zone, type: (await readText(join(base, zone, "type"))) ?? "", celsius: milli / 1000 });
  }
  if (readings.length === 0) return undefined;
  const cpu = readings.find((r) => /cpu|soc|x86_pkg_temp/i.test(r.type)) ?? readings[0]!;
  return {
    sensor: cpu.zone,
    main: cpu.celsius,
    inputs: readings.map((r) => ({ id: r.zone, chip: r.type || r.zone, celsius: round(r.celsius) })),
  };
}

/**
 * The host's CPU temperature sensor: /sys on Linux (systeminformation's cpuTemperature() spawns
 * shell pipelines on every call), systeminformation elsewhere; undefined without a sensor.
 */
export async function readTemperature(options: CollectorOptions): Promise<Reading | undefined> {
  if (process.platform === "linux") {
    return (await readHwmon(options.sysRoot)) ?? (await readThermalZones(options.sysRoot));
  }
  const t = await (await systemInformation()).cpuTemperature();
  if (t.main === null || !plausibleCelsius(t.main)) return undefined;
  const cores = (t.cores ?? []).map((celsius, i) => ({ id: `core${i}`, celsius }));
  return {
    sensor: "systeminformation",
    main: t.main,
    inputs: [{ id: "main", celsius: t.main }, ...cores]
      .filter((input) => plausibleCelsius(input.celsius))
      .map((input) => ({ ...input, chip: "systeminformation", celsius: round(input.celsius) })),
  };
}

/**
 * CPU temperature. On Linux it reads /sys directly (systeminformation's cpuTemperature() spawns
 * shell pipelines on every call); elsewhere it asks systeminformation. Hosts without a sensor
 * produce no reading at all, never 0 or -1.
 */
export class TemperatureCollector implements Collector<"temperature"> {
  readonly metric = "temperature";
  private source = "none";
  private absent = false;

  constructor(private readonly options: CollectorOptions) {}

  async start(): Promise<void> {
    this.source = (await readTemperature(this.options))?.sensor ?? "none";
    this.absent = this.source === "none";
  }

  async collect(): Promise<TemperatureFields | undefined> {
    // A host without a sensor at start (a VM) does not get one later; scanning /sys for it at every
    // interval cost about 0.5 ms of CPU each time (npm run bench:agent).
    if (this.absent) return undefined;
    const reading = await readTemperature(this.options);
    if (!reading) return undefined;
    return {
      celsius: round(reading.main),
      max: { celsius: Math.max(...reading.inputs.map((input) => input.celsius)) },
      sensor: reading.sensor,
    };
  }

  sensor(): string {
    return this.source;
  }
}
