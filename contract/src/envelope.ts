import { Type, type TObject, type TSchema } from "@sinclair/typebox";
import { HOST_NAME_MAX_LENGTH } from "./topics.ts";
import { Keyword, Timestamp } from "./fields.ts";

/** ECS fields every message carries, whatever its metric. */
export const Host = Type.Object(
  {
    name: Keyword({ minLength: 1, maxLength: HOST_NAME_MAX_LENGTH, pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$" }),
    architecture: Type.Optional(Keyword({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const Agent = Type.Object(
  {
    type: Keyword({ maxLength: 64 }),
    version: Keyword({ maxLength: 64 }),
  },
  { additionalProperties: false },
);

/**
 * A message: `@timestamp`, `host`, `agent`, `event.dataset` naming the metric, and the metric's
 * own fields under `system` (Metricbeat's names where Metricbeat has the quantity).
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
      event: Type.Object(
        { dataset: Type.Literal(`telemetry.${metric}` as `telemetry.${M}`, { "x-es-type": "keyword" }) },
        { additionalProperties: false },
      ),
      system: Type.Object({ [metric]: system } as { [K in M]: S }, { additionalProperties: false }),
    },
    { additionalProperties: false },
  );
}
