import { Type, type Static } from "@sinclair/typebox";
import { esTyped, Bytes, Celsius, Entities, Fraction, Keyword, Long } from "./fields.ts";
import { envelope } from "./envelope.ts";

/**
 * One schema per metric: the payload of `telemetry/v1/<host>/<metric>`. Units are in the field
 * names (`pct` is a fraction 0..1, `celsius`, bytes where unnamed). The README's field reference
 * lists the same fields.
 */
const pct = () => Type.Object({ pct: Fraction() }, { additionalProperties: false });
const norm = () => Type.Object({ norm: pct() }, { additionalProperties: false });
const load = () => esTyped(Type.Number({ minimum: 0, maximum: 1e6 }), "float");
const cores = () => esTyped(Type.Integer({ minimum: 1, maximum: 65_536 }), "integer");

export const CpuFields = Type.Object(
  {
    cores: cores(),
    total: norm(),
    user: norm(),
    system: norm(),
    iowait: norm(),
    idle: norm(),
    /** Busy fraction of each logical core, in core order. */
    per_core: Type.Object(
      {
        busy: Type.Object(
          { pct: Type.Array(Fraction(), { maxItems: 1024 }) },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const LoadFields = Type.Object(
  {
    "1": load(),
    "5": load(),
    "15": load(),
    cores: cores(),
    /** The load averages divided by the core count. */
    norm: Type.Object({ "1": load(), "5": load(), "15": load() }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

export const TemperatureFields = Type.Object(
  {
    /** Main (package or SoC) temperature. */
    celsius: Celsius(),
    max: Type.Object({ celsius: Celsius() }, { additionalProperties: false }),
    cores: Type.Optional(
      Type.Object({ celsius: Type.Array(Celsius(), { maxItems: 1024 }) }, { additionalProperties: false }),
    ),
    /** Where the reading came from, e.g. "coretemp", "k10temp", "thermal_zone0", "systeminformation". */
    sensor: Keyword({ maxLength: 128 }),
  },
  { additionalProperties: false },
);

export const MemoryFields = Type.Object(
  {
    // Metricbeat's meanings, so that its dashboards and ours read the same numbers under one name.
    total: Bytes(),
    /** Free memory: MemFree, not counting page cache and reclaimable buffers. */
    free: Bytes(),
    /** total − free (Metricbeat's used.bytes: includes page cache). */
    used: Type.Object({ bytes: Bytes(), pct: Fraction() }, { additionalProperties: false }),
    actual: Type.Object(
      {
        /** Available memory: what can be allocated without swapping (MemAvailable). */
        free: Bytes(),
        /** total − available: memory the system cannot give back. */
        used: Type.Object({ bytes: Bytes(), pct: Fraction() }, { additionalProperties: false }),
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
    mount_point: Keyword({ minLength: 1, maxLength: 256 }),
    /** The mount's source, e.g. `/dev/sda1` or `/dev/mmcblk0p2`. */
    device_name: Keyword({ maxLength: 128 }),
    /** The filesystem type, e.g. `ext4`, `xfs`, `vfat`. */
    type: Keyword({ maxLength: 32 }),
    total: Bytes(),
    /** Free blocks, including those reserved for root (f_bfree). */
    free: Bytes(),
    /** Blocks an unprivileged user can still allocate (f_bavail). */
    available: Bytes(),
    /** `bytes`: total − free; `pct`: bytes ÷ (bytes + available), Metricbeat's (and df's) use %. */
    used: Type.Object({ bytes: Bytes(), pct: Fraction() }, { additionalProperties: false }),
    /** Inodes: all, and free. */
    files: Long(),
    free_files: Long(),
  },
  { additionalProperties: false },
);

/** Every real filesystem of the host, one entity per mount point (bounded so a sample fits its 16 KiB). */
export const FilesystemFields = Entities(FilesystemItem, "mount_point", 20);

const counters = () =>
  Type.Object(
    { bytes: Bytes(), packets: Long(), errors: Long(), dropped: Long() },
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
    name: Keyword({ minLength: 1, maxLength: 15 }),
    in: counters(),
    out: counters(),
    period: Type.Optional(
      Type.Object(
        { ms: Long({ minimum: 1 }), in: counters(), out: counters() },
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
  load: LoadFields,
  temperature: TemperatureFields,
  memory: MemoryFields,
  filesystem: FilesystemFields,
  network: NetworkFields,
} as const;

export type MetricName = keyof typeof METRIC_FIELDS;
export const METRIC_NAMES = Object.keys(METRIC_FIELDS) as MetricName[];
/** What a collector for metric M returns: exactly M's fields (for a per-entity metric, the list). */
export type MetricFields<M extends MetricName> = Static<(typeof METRIC_FIELDS)[M]>;
/** The whole message's schema for metric M: the envelope around M's fields. */
export type MetricSchema<M extends MetricName> = ReturnType<typeof envelope<M, (typeof METRIC_FIELDS)[M]>>;

/** The payload schema of `telemetry/v1/<host>/<metric>`, per metric. */
export const METRIC_SCHEMAS = Object.fromEntries(
  METRIC_NAMES.map((metric) => [metric, envelope(metric, METRIC_FIELDS[metric])]),
) as unknown as { [M in MetricName]: MetricSchema<M> };

export type SampleOf<M extends MetricName> = Static<MetricSchema<M>>;
export type Sample = { [M in MetricName]: SampleOf<M> }[MetricName];

export function isMetricName(name: string): name is MetricName {
  return Object.hasOwn(METRIC_FIELDS, name);
}
