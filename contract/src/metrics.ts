import { Type, type Static } from "@sinclair/typebox";
import { esTyped, Bytes, Celsius, Fraction, Keyword, Long } from "./fields.ts";
import { envelope } from "./envelope.ts";

/**
 * One schema per metric: the payload of `telemetry/v2/<host>/<metric>`. Units are in the field
 * names (`pct` is a fraction 0..1, `celsius`, bytes where unnamed). Each leaf's `description` is its
 * line in the README's field reference (npm run docs:fields).
 */
const pct = (description: string) =>
  Type.Object({ pct: Fraction({ description }) }, { additionalProperties: false });
const norm = (description: string) =>
  Type.Object({ norm: pct(description) }, { additionalProperties: false });
/** A load average: Metricbeat maps it as `scaled_float` with a scaling factor of 100 (see Fraction). */
const load = (description: string) =>
  esTyped(Type.Number({ minimum: 0, maximum: 1e6, description }), "float", "gauge");
const cores = () => Long({ minimum: 1, maximum: 65_536, description: "logical cores" }, "gauge");
export const CpuFields = Type.Object(
  {
    cores: cores(),
    total: norm("busy fraction of all cores over the interval"),
    user: norm("fraction of the interval in user space"),
    system: norm("fraction of the interval in the kernel"),
    iowait: norm("fraction of the interval idle with I/O outstanding"),
    idle: norm("fraction of the interval idle"),
    /** Busy fraction of each logical core, in core order. */
    per_core: Type.Object(
      {
        busy: Type.Object(
          {
            pct: Type.Array(Fraction({ description: "busy fraction of each logical core, in core order" }), {
              maxItems: 1024,
            }),
          },
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
    celsius: Celsius({ description: "the main sensor: CPU package, or the SoC on a Raspberry Pi" }),
    max: Type.Object(
      { celsius: Celsius({ description: "the hottest sensor reading" }) },
      { additionalProperties: false },
    ),
    cores: Type.Optional(
      Type.Object(
        {
          celsius: Type.Array(Celsius({ description: "per core, where the hardware reports it" }), {
            maxItems: 1024,
          }),
        },
        { additionalProperties: false },
      ),
    ),
    sensor: Keyword({
      maxLength: 128,
      description: "where the reading came from: `coretemp`, `k10temp`, `thermal_zone0`, …",
    }),
  },
  { additionalProperties: false },
);

export const MemoryFields = Type.Object(
  {
    // Metricbeat's meanings, so that its dashboards and ours read the same numbers under one name.
    total: Bytes({ description: "all memory" }),
    free: Bytes({ description: "free memory (MemFree): page cache and reclaimable buffers not counted" }),
    used: Type.Object(
      {
        bytes: Bytes({ description: "total − free: page cache counts as used" }),
        pct: Fraction({ description: "used.bytes / total" }),
      },
      { additionalProperties: false },
    ),
    actual: Type.Object(
      {
        free: Bytes({ description: "available without swapping (MemAvailable)" }),
        used: Type.Object(
          {
            bytes: Bytes({ description: "total − available: memory the system cannot give back" }),
            pct: Fraction({ description: "actual.used.bytes / total" }),
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

/** The payload schema of `telemetry/v2/<host>/<metric>`, per metric. */
export const METRIC_SCHEMAS = Object.fromEntries(
  METRIC_NAMES.map((metric) => [metric, envelope(metric, METRIC_FIELDS[metric])]),
) as unknown as { [M in MetricName]: MetricSchema<M> };

export type SampleOf<M extends MetricName> = Static<MetricSchema<M>>;
export type Sample = { [M in MetricName]: SampleOf<M> }[MetricName];

export function isMetricName(name: string): name is MetricName {
  return Object.hasOwn(METRIC_FIELDS, name);
}
