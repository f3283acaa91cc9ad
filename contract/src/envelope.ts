import { Type, type TObject, type TSchema } from "@sinclair/typebox";
import { HOST_NAME_MAX_LENGTH } from "./topics.ts";
import { dimension, Keyword, Millis, Timestamp } from "./fields.ts";

/** ECS fields every message carries, whatever its metric. */
export const Host = Type.Object(
  {
    name: dimension(
      Keyword({
        minLength: 1,
        maxLength: HOST_NAME_MAX_LENGTH,
        pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description: "the host, equal to the topic's `<host>` (the ingest rejects a mismatch as spoofed)",
      }),
    ),
    /**
     * The host's /etc/machine-id where it has one: stable across renames and reinstalls of the
     * agent, which host.name is not (Kibana's host views key on it when present).
     */
    id: Type.Optional(
      Keyword({
        minLength: 1,
        maxLength: 128,
        description: "the host's machine id (`/etc/machine-id`), absent where it has none",
      }),
    ),
    architecture: Type.Optional(
      Keyword({
        maxLength: 64,
        description: "CPU architecture as `uname -m` names it: `x86_64`, `aarch64`, `armv7l`",
      }),
    ),
  },
  { additionalProperties: false },
);

export const Agent = Type.Object(
  {
    type: Keyword({ maxLength: 64, description: "`telemetry-agent` (or `telemetry-simulator`)" }),
    version: Keyword({ maxLength: 64, description: "the agent's version" }),
  },
  { additionalProperties: false },
);

/**
 * ECS `event.module` of every message. Not Metricbeat's "system": ECS has `event.dataset` begin
 * with the module's name, and ours is `telemetry.<metric>`; claiming "system" would also make
 * Elastic's own `system` dashboards and detection rules, which filter on it, take these documents
 * for Metricbeat's.
 */
export const EVENT_MODULE = "telemetry";

/** `event` of a message whose dataset is `telemetry.<kind>`. */
export function eventOf<D extends string>(dataset: D) {
  return Type.Object(
    {
      module: Type.Literal(EVENT_MODULE, { "x-es-type": "keyword", description: "`telemetry`" }),
      dataset: Type.Literal(dataset, {
        "x-es-type": "keyword",
        description: "`telemetry.<metric>` or `telemetry.status`",
      }),
    },
    { additionalProperties: false },
  );
}

/**
 * A message: `@timestamp`, `host`, `agent`, `event` naming the metric, `metricset` with the
 * sampling period, and the metric's own fields under `system` (Metricbeat's names where Metricbeat
 * has the quantity).
 */
export function envelope<M extends string, S extends TSchema, H extends TObject = typeof Host>(
  metric: M,
  system: S,
  /** The `host` object, when a metric adds ECS host fields of its own (cpu: `host.cpu.usage`). */
  host: H = Host as unknown as H,
) {
  return Type.Object(
    {
      "@timestamp": Timestamp(),
      host,
      agent: Agent,
      event: eventOf(`telemetry.${metric}` as `telemetry.${M}`),
      // Metricbeat's: Kibana's host views divide a counter's increase by metricset.period to get a
      // rate, and tell a gap from a slow interval by it.
      metricset: Type.Object(
        {
          name: Type.Literal(metric, { "x-es-type": "keyword", description: "the metric, as in the topic" }),
          period: Millis({ minimum: 1000, description: "the agent's sampling interval" }),
        },
        { additionalProperties: false },
      ),
      system: Type.Object({ [metric]: system } as { [K in M]: S }, { additionalProperties: false }),
    },
    { additionalProperties: false },
  );
}
