import type { TSchema } from "@sinclair/typebox";
import { ES_TYPE, METRIC_NAMES, METRIC_SCHEMAS, type MetricName } from "@cluster-telemetry/contract";

/** How the page formats a column's values. */
export type ColumnUnit = "fraction" | "celsius" | "ratio";

/** One metric as the page shows it: a headline value per sample, kept in a ring and drawn as a sparkline. */
export interface MetricColumn {
  metric: MetricName;
  label: string;
  /** Path below `system.<metric>` to the headline value. */
  path: string[];
  unit: ColumnUnit;
}

/** The headline field of each metric the page knows by name. */
const KNOWN: Partial<Record<MetricName, Omit<MetricColumn, "metric">>> = {
  cpu: { label: "CPU", path: ["total", "norm", "pct"], unit: "fraction" },
  load: { label: "load / core", path: ["norm", "1"], unit: "ratio" },
  temperature: { label: "temperature", path: ["celsius"], unit: "celsius" },
  memory: { label: "memory", path: ["used", "pct"], unit: "fraction" },
};

/**
 * The page's columns, one per metric of the contract. A metric added to the contract without an
 * entry above gets a column for its first fraction (`pct`) field, so it shows up without a change
 * here; a metric without any fraction field is left out.
 */
export const COLUMNS: MetricColumn[] = METRIC_NAMES.flatMap((metric) => {
  const known = KNOWN[metric];
  if (known) return [{ metric, ...known }];
  const system = (METRIC_SCHEMAS[metric] as TSchema).properties?.system?.properties?.[metric] as TSchema;
  const path = firstFraction(system, []);
  return path ? [{ metric, label: metric, path, unit: "fraction" as const }] : [];
});

function firstFraction(schema: TSchema | undefined, path: string[]): string[] | undefined {
  if (!schema) return undefined;
  if (schema.type === "number" && schema.maximum === 1 && schema[ES_TYPE] === "float") return path;
  for (const [name, child] of Object.entries((schema.properties ?? {}) as Record<string, TSchema>)) {
    const found = firstFraction(child, [...path, name]);
    if (found) return found;
  }
  return undefined;
}

/** The headline value of a sample's `system.<metric>` object, or undefined when absent. */
export function headline(column: MetricColumn, system: unknown): number | undefined {
  let at: unknown = system;
  for (const key of column.path) {
    if (typeof at !== "object" || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return typeof at === "number" ? at : undefined;
}
