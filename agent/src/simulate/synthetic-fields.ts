import type { TSchema } from "@sinclair/typebox";
import { ENTITY_KEY, METRIC_FIELDS, type MetricFields, type MetricName } from "@cluster-telemetry/contract";

/**
 * Values for a metric the simulator has no model of, drawn from the contract's schema: every field
 * present, each within its bounds, per-entity lists with distinct keys. A metric added to the
 * contract is simulated (and load-tested) from its schema entry alone; a hand-written model in
 * virtual-host.ts makes its numbers plausible.
 */
export function syntheticFields<M extends MetricName>(metric: M, random: () => number): MetricFields<M> {
  return value(METRIC_FIELDS[metric] as unknown as TSchema, random) as MetricFields<M>;
}

// Large enough to look like bytes or counters, small enough to stay exact and readable.
const LARGE = 1e9;

function value(schema: TSchema, random: () => number, entityIndex = 0): unknown {
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.anyOf)) return value(schema.anyOf[0] as TSchema, random, entityIndex);
  switch (schema.type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries((schema.properties ?? {}) as Record<string, TSchema>))
        out[key] = value(child, random, entityIndex);
      return out;
    }
    case "array": {
      const key = schema[ENTITY_KEY] as string | undefined;
      const count = Math.max(schema.minItems ?? 1, Math.min(schema.maxItems ?? 4, key ? 2 : 4));
      return Array.from({ length: count }, (_, i) => {
        const item = value(schema.items as TSchema, random, i) as Record<string, unknown>;
        // Distinct keys: the ingest refuses a sample whose entities share one.
        if (key) item[key] = typeof item[key] === "number" ? i : `${String(item[key])}${i}`;
        return item;
      });
    }
    case "string":
      return stringValue(schema, entityIndex);
    case "integer":
    case "number":
      return numberValue(schema, random);
    case "boolean":
      return random() < 0.5;
    default:
      throw new Error(`the simulator cannot draw a value for schema type ${String(schema.type)}`);
  }
}

function stringValue(schema: TSchema, entityIndex: number): string {
  if (Array.isArray(schema.enum)) return String(schema.enum[0]);
  const text = `sim${entityIndex}`;
  return typeof schema.maxLength === "number" ? text.slice(0, schema.maxLength) : text;
}

function numberValue(schema: TSchema, random: () => number): number {
  const low =
    typeof schema.minimum === "number"
      ? schema.minimum
      : typeof schema.exclusiveMinimum === "number"
        ? schema.exclusiveMinimum + 1
        : 0;
  const high = typeof schema.maximum === "number" ? Math.min(schema.maximum, low + LARGE) : low + LARGE;
  let drawn = low + random() * (high - low);
  if (schema.type === "integer") drawn = Math.floor(drawn);
  else drawn = Math.round(drawn * 10_000) / 10_000;
  const refused = (schema.not as { enum?: unknown[] } | undefined)?.enum ?? [];
  return refused.includes(drawn) ? drawn + 0.5 : drawn;
}
