import { Type, type Static, type TObject, type TSchema } from "@sinclair/typebox";
import {
  ENTITY_KEY,
  esTyped,
  Bytes,
  Celsius,
  CoreFraction,
  Entities,
  Fraction,
  Keyword,
  Long,
  MAX_CORES,
  Millis,
} from "./fields.ts";
import { envelope, Host } from "./envelope.ts";

/**
 * One schema per metric: the payload of `telemetry/v2/<host>/<metric>`. Units are in the field
 * names (`pct` is a fraction 0..1, `celsius`, bytes where unnamed). Each leaf's `description` is its
 * line in the README's field reference (npm run docs:fields).
 */
const pct = (description?: string) =>
  Type.Object({ pct: Fraction(description ? { description } : {}) }, { additionalProperties: false });
/** A load average: Metricbeat maps it as `scaled_float` with a scaling factor of 100 (see Fraction). */
const load = (description?: string) =>
  esTyped(
    Type.Number({ minimum: 0, maximum: 1e6, ...(description ? { description } : {}) }),
    "float",
    "gauge",
  );
const cores = () => Long({ minimum: 1, maximum: MAX_CORES, description: "logical cores" }, "gauge");

/**
 * The states of /proc/stat's cpu lines that Metricbeat reports, each on its own (user excludes
 * nice, system excludes irq and softirq), in Metricbeat's order.
 */
export const CPU_STATES = ["user", "system", "idle", "nice", "irq", "iowait", "softirq", "steal"] as const;
export type CpuState = (typeof CPU_STATES)[number];

const states = <T extends TSchema>(state: (name: CpuState) => T) =>
  Object.fromEntries(CPU_STATES.map((name) => [name, state(name)])) as { [K in CpuState]: T };

/**
 * A CPU state over the interval as Metricbeat's cpu metricset reports it: `pct` summed over the
 * cores (0 to the core count), `norm.pct` over the whole machine (0..1).
 */
const cpuShare = (what: string) =>
  Type.Object(
    {
      pct: CoreFraction({ description: `${what}, summed over the cores (0 to the core count)` }),
      norm: pct(`${what}, over the whole machine (0–1)`),
    },
    { additionalProperties: false },
  );

export const CpuFields = Type.Object(
  {
    cores: cores(),
    /** Busy: the core count (or 1, normalised) minus idle and iowait, as Metricbeat computes it. */
    total: cpuShare("busy: the core count (or 1) minus idle and iowait, as Metricbeat"),
    ...states((state) => cpuShare(`share of the interval in ${state}`)),
  },
  { additionalProperties: false },
);

/**
 * One logical core (Metricbeat's core metricset, `system.core.*`): `id` is the core's position in
 * /proc/stat (cpuN), each state's `pct` a fraction of that core (0..1). One document per core in
 * Elasticsearch, so an aggregation by `system.core.id` knows which value is which core.
 */
export const CoreFields = Entities(
  Type.Object(
    {
      id: esTyped(
        Type.Integer({
          minimum: 0,
          maximum: MAX_CORES - 1,
          description: "the core's position among /proc/stat's cpuN lines",
        }),
        "long",
      ),
      total: pct("that core's busy share of the interval (0–1)"),
      ...states((state) => pct(`that core's share of the interval in ${state} (0–1)`)),
    },
    { additionalProperties: false },
  ),
  "id",
  1024,
);

/** ECS `host.cpu.usage` (0..1), on cpu messages: Metricbeat's cpu metricset copies `total.norm.pct` there. */
export const CpuHost = Type.Object(
  { ...Host.properties, cpu: Type.Object({ usage: Fraction() }, { additionalProperties: false }) },
  { additionalProperties: false },
);

export const LoadFields = Type.Object(
  {
    "1": load("load average over 1 minute"),
    "5": load("load average over 5 minutes"),
    "15": load("load average over 15 minutes"),
    cores: cores(),
    norm: Type.Object(
      {
        "1": load("load average over 1 minute divided by the core count"),
        "5": load("load average over 5 minutes divided by the core count"),
        "15": load("load average over 15 minutes divided by the core count"),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const TemperatureFields = Type.Object(
  {
    celsius: Celsius({ description: "Main (package or SoC) temperature." }),
    max: Type.Object(
      { celsius: Celsius({ description: "the hottest input of the sensor" }) },
      { additionalProperties: false },
    ),
    sensor: Keyword({
      description:
        'Where the reading came from, e.g. "coretemp", "k10temp", "thermal_zone0", "systeminformation".',
      maxLength: 128,
    }),
  },
  { additionalProperties: false },
);

/**
 * Every temperature input of the sensor the temperature metric reads (coretemp's "Package id 0",
 * "Core 0", …; k10temp's Tctl and Tccd; the thermal zones where no CPU hwmon device exists): one
 * document per input, keyed by `id`, so a per-core temperature keeps which core it belongs to. The
 * inputs are the sensor's own (a coretemp "Core N" is a physical core, not the logical cores of
 * the core metric), hence a metric of their own rather than a field of the core documents.
 */
export const TemperatureSensorFields = Entities(
  Type.Object(
    {
      id: Keyword({
        description: "The input within the host: `hwmon1/temp2`, `thermal_zone0`.",
        minLength: 1,
        maxLength: 128,
      }),
      chip: Keyword({
        description:
          "The hwmon device's name or the thermal zone's type: `coretemp`, `k10temp`, `cpu-thermal`.",
        maxLength: 128,
      }),
      /** The input's label where the driver gives one: `Package id 0`, `Core 3`, `Tctl`. */
      label: Type.Optional(
        Keyword({ description: "the input's label: `Package id 0`, `Core 3`, `Tctl`", maxLength: 128 }),
      ),
      celsius: Celsius({ description: "that input's temperature" }),
    },
    { additionalProperties: false },
  ),
  "id",
  256,
);

const used = (bytes: string, fraction: string) =>
  Type.Object(
    { bytes: Bytes({ description: bytes }), pct: Fraction({ description: fraction }) },
    { additionalProperties: false },
  );

/**
 * Memory as Metricbeat's memory metricset reports it (elastic-agent-system-metrics
 * metric/memory/memory_linux.go `get`, percentages in memory.go `fillPercentages`), so that its
 * dashboards and ours read the same numbers under one name.
 */
export const MemoryFields = Type.Object(
  {
    total: Bytes({ description: "all memory (MemTotal)" }),
    free: Bytes({ description: "Free memory: MemFree, not counting page cache and reclaimable buffers." }),
    /** total − free (Metricbeat's used.bytes: includes page cache). */
    used: used("total − free: page cache counts as used", "used.bytes ÷ total"),
    actual: Type.Object(
      {
        free: Bytes({
          description:
            "Available memory: MemAvailable, or MemFree + Buffers + Cached on kernels before 3.14.",
        }),
        /** total − available: memory the system cannot give back. */
        used: used("total − available: memory the system cannot give back", "actual.used.bytes ÷ total"),
      },
      { additionalProperties: false },
    ),
    swap: Type.Object(
      {
        total: Bytes({ description: "swap space (SwapTotal)" }),
        free: Bytes({ description: "unused swap (SwapFree)" }),
        used: Type.Object(
          {
            bytes: Bytes({ description: "SwapTotal − SwapFree" }),
            pct: Type.Optional(
              Fraction({ description: "used.bytes ÷ total; absent on a host without swap" }),
            ),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/**
 * One mounted filesystem, as Metricbeat's `system.filesystem` metricset reports it (statfs(2) of the
 * mount point; bytes are blocks × f_bsize, as Metricbeat multiplies them).
 */
export const FilesystemItem = Type.Object(
  {
    mount_point: Keyword({ description: "where it is mounted", minLength: 1, maxLength: 256 }),
    device_name: Keyword({
      description: "The mount's source, e.g. `/dev/sda1` or `/dev/mmcblk0p2`.",
      maxLength: 128,
    }),
    type: Keyword({ description: "The filesystem type, e.g. `ext4`, `xfs`, `vfat`.", maxLength: 32 }),
    total: Bytes({ description: "the filesystem's size" }),
    free: Bytes({ description: "Free blocks, including those reserved for root (f_bfree)." }),
    available: Bytes({ description: "Blocks an unprivileged user can still allocate (f_bavail)." }),
    /** `bytes`: total − free; `pct`: bytes ÷ (bytes + available), Metricbeat's (and df's) use %. */
    used: Type.Object(
      {
        bytes: Bytes({ description: "total − free" }),
        pct: Fraction({ description: "used.bytes ÷ (used.bytes + available): Metricbeat's and df's use %" }),
      },
      { additionalProperties: false },
    ),
    files: Long({ description: "inodes (0 on vfat, which has none)" }, "gauge"),
    free_files: Long({ description: "free inodes" }, "gauge"),
  },
  { additionalProperties: false },
);

/** Every real filesystem of the host, one entity per mount point (bounded so a sample fits its 16 KiB). */
export const FilesystemFields = Entities(FilesystemItem, "mount_point", 20);

/** Cumulative counters since the interface appeared (Metricbeat's), or their change over a period. */
const counters = (kind: "counter" | "gauge", over: string) =>
  Type.Object(
    {
      bytes: Long({ description: `bytes ${over}` }, kind),
      packets: Long({ description: `packets ${over}` }, kind),
      errors: Long({ description: `errors ${over}` }, kind),
      dropped: Long({ description: `packets dropped ${over}` }, kind),
    },
    { additionalProperties: false },
  );

/**
 * One network interface. `in` and `out` are Metricbeat's `system.network` counters: cumulative since
 * the interface appeared, as /proc/net/dev has them. `period` is what changed since the previous
 * sample, over `period.ms`; it is absent from the first sample of an interface and after any of
 * its counters went backwards (a reset or a wrap), never negative.
 */
export const NetworkItem = Type.Object(
  {
    name: Keyword({ description: "the interface, e.g. `eth0`, `wlan0`", minLength: 1, maxLength: 15 }),
    in: counters("counter", "received since the interface appeared"),
    out: counters("counter", "sent since the interface appeared"),
    period: Type.Optional(
      Type.Object(
        {
          ms: Millis({ minimum: 1, description: "the interval the period's changes are over" }),
          in: counters("gauge", "received over the period"),
          out: counters("gauge", "sent over the period"),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Every network interface but loopback, one entity per name (bounded so a sample fits its 16 KiB). */
export const NetworkFields = Entities(NetworkItem, "name", 28);

/**
 * Every metric the contract knows: the topic's last level → the schema of what goes under
 * `system.<metric>`. Adding a metric is one entry here and a collector; templates, validation, the
 * simulator and the README's field table follow from this record.
 */
export const METRIC_FIELDS = {
  cpu: CpuFields,
  core: CoreFields,
  load: LoadFields,
  temperature: TemperatureFields,
  temperature_sensor: TemperatureSensorFields,
  memory: MemoryFields,
  filesystem: FilesystemFields,
  network: NetworkFields,
} as const;

export type MetricName = keyof typeof METRIC_FIELDS;
export const METRIC_NAMES = Object.keys(METRIC_FIELDS) as MetricName[];
/** What a collector for metric M returns: exactly M's fields (for a per-entity metric, the list). */
export type MetricFields<M extends MetricName> = Static<(typeof METRIC_FIELDS)[M]>;
/** The whole message's schema for metric M: the envelope around M's fields. */
export type MetricSchema<M extends MetricName> = ReturnType<
  typeof envelope<M, (typeof METRIC_FIELDS)[M], HostSchema<M>>
>;

/**
 * Metrics whose messages carry ECS host fields of their own. Only cpu: `host.cpu.usage` is one
 * number per host and sample, so it belongs with the cpu sample it is copied from; the other data
 * streams neither map nor accept it.
 */
const METRIC_HOST = { cpu: CpuHost } as const;
type HostSchema<M extends MetricName> = M extends keyof typeof METRIC_HOST
  ? (typeof METRIC_HOST)[M]
  : typeof Host;

/** The payload schema of `telemetry/v2/<host>/<metric>`, per metric. */
export const METRIC_SCHEMAS = Object.fromEntries(
  METRIC_NAMES.map((metric) => [
    metric,
    envelope(metric, METRIC_FIELDS[metric], (METRIC_HOST as Record<string, TObject>)[metric] ?? Host),
  ]),
) as unknown as { [M in MetricName]: MetricSchema<M> };

export type SampleOf<M extends MetricName> = Static<MetricSchema<M>>;
export type Sample = { [M in MetricName]: SampleOf<M> }[MetricName];

/** The field naming each entity of a per-entity metric, or undefined for a metric with one value per host. */
export function entityKeyOf(metric: MetricName): string | undefined {
  const key = (METRIC_FIELDS[metric] as unknown as Record<string, unknown>)[ENTITY_KEY];
  return typeof key === "string" ? key : undefined;
}

export function isMetricName(name: string): name is MetricName {
  return Object.hasOwn(METRIC_FIELDS, name);
}
