import { Type, type Static } from "@sinclair/typebox";
import { esTyped, Bytes, Celsius, Fraction, Keyword } from "./fields.ts";
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
 * Every metric the contract knows: the topic's last level → the schema of what goes under
 * `system.<metric>`. Adding a metric is one entry here and a collector; templates, validation, the
 * simulator and the README's field table follow from this record.
 */
export const METRIC_FIELDS = {
  cpu: CpuFields,
  load: LoadFields,
  temperature: TemperatureFields,
  memory: MemoryFields,
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
