import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { buildIndexTemplates, type IndexTemplate } from "../../ingest/src/setup/index-templates.ts";

/** The saved objects file as Kibana reads it: one JSON object per line, then the export summary. */
export const SAVED_OBJECTS_FILE = resolve(
  import.meta.dirname,
  "..",
  "..",
  "kibana",
  "saved-objects",
  "cluster-telemetry.ndjson",
);

export interface Reference {
  type: string;
  id: string;
  name: string;
}

export interface SavedObject {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  references: Reference[];
  coreMigrationVersion?: string;
  typeMigrationVersion?: string;
}

export interface ExportSummary {
  exportedCount: number;
  missingRefCount: number;
}

export function readLines(file = SAVED_OBJECTS_FILE): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "");
}

export function readSavedObjects(file = SAVED_OBJECTS_FILE): {
  objects: SavedObject[];
  summary: ExportSummary | undefined;
} {
  const parsed = readLines(file).map((line) => JSON.parse(line) as Record<string, unknown>);
  const summary = parsed.find((o) => "exportedCount" in o) as ExportSummary | undefined;
  const objects = parsed.filter((o) => !("exportedCount" in o)) as unknown as SavedObject[];
  return { objects, summary };
}

/** A Lens column as the formBased datasource stores it. */
export interface LensColumn {
  label: string;
  dataType: string;
  operationType: string;
  sourceField?: string;
  isBucketed: boolean;
  filter?: { query: string; language: string };
  /** Normalises a metric to a rate per unit of time ("s": per second) over its bucket. */
  timeScale?: "s" | "m" | "h" | "d";
  params?: Record<string, unknown>;
}

export interface LensLayer {
  columns: Record<string, LensColumn>;
  columnOrder: string[];
}

export interface LensAttributes {
  title: string;
  visualizationType: string;
  references: Reference[];
  state: {
    query: { query: string; language: string };
    filters: unknown[];
    visualization: Record<string, unknown>;
    datasourceStates: { formBased?: { layers: Record<string, LensLayer> } };
  };
}

export interface DashboardPanel {
  panelIndex: string;
  type: string;
  gridData: { x: number; y: number; w: number; h: number; i: string };
  embeddableConfig: { attributes?: LensAttributes };
  panelRefName?: string;
}

export interface Control {
  id: string;
  type: string;
  fieldName: string;
}

/** One visualisation, wherever it lives: by value in the dashboard, or a lens saved object. */
export interface Visualisation {
  /** The dashboard panel (or lens object id) it came from. */
  origin: string;
  attributes: LensAttributes;
}

export function dashboardsOf(objects: SavedObject[]): SavedObject[] {
  return objects.filter((o) => o.type === "dashboard");
}

export function panelsOf(dashboard: SavedObject): DashboardPanel[] {
  return JSON.parse(dashboard.attributes.panelsJSON as string) as DashboardPanel[];
}

export function controlsOf(dashboard: SavedObject): Control[] {
  const group = dashboard.attributes.controlGroupInput as { panelsJSON?: string } | undefined;
  if (!group?.panelsJSON) return [];
  const panels = JSON.parse(group.panelsJSON) as Record<
    string,
    { type: string; explicitInput: { fieldName: string } }
  >;
  return Object.entries(panels).map(([id, p]) => ({
    id,
    type: p.type,
    fieldName: p.explicitInput.fieldName,
  }));
}

export function visualisationsOf(objects: SavedObject[]): Visualisation[] {
  const byValue = dashboardsOf(objects).flatMap((d) =>
    panelsOf(d)
      .filter((p) => p.type === "lens" && p.embeddableConfig.attributes)
      .map((p) => ({ origin: p.panelIndex, attributes: p.embeddableConfig.attributes! })),
  );
  const saved = objects
    .filter((o) => o.type === "lens")
    .map((o) => ({
      origin: o.id,
      attributes: { ...(o.attributes as unknown as LensAttributes), references: o.references },
    }));
  return [...byValue, ...saved];
}

export function layersOf(visualisation: Visualisation): Array<[string, LensLayer]> {
  return Object.entries(visualisation.attributes.state.datasourceStates.formBased?.layers ?? {});
}

/** Kibana's index pattern syntax: comma-separated patterns with `*`, a leading `-` excludes. */
export function indexPatternMatches(pattern: string, index: string): boolean {
  const parts = pattern.split(",").map((p) => p.trim());
  const toRegExp = (p: string) =>
    new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
  const included = parts.filter((p) => !p.startsWith("-")).some((p) => toRegExp(p).test(index));
  const excluded = parts.filter((p) => p.startsWith("-")).some((p) => toRegExp(p.slice(1)).test(index));
  return included && !excluded;
}

/** Every leaf field of a template's mapping, by dotted path. */
export function fieldTypes(template: IndexTemplate): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (
    properties: Record<string, { type?: string; properties?: Record<string, never> }>,
    at: string,
  ) => {
    for (const [name, mapping] of Object.entries(properties)) {
      const path = at ? `${at}.${name}` : name;
      if (mapping.properties) walk(mapping.properties, path);
      else if (mapping.type) found.set(path, mapping.type);
    }
  };
  walk(template.body.template.mappings.properties as Record<string, never>, "");
  return found;
}

/**
 * The mapped types of every field the data view sees, over the templates of the given namespace
 * whose data streams it matches: field → the set of types it has across those data streams.
 */
export function dataViewFields(pattern: string, namespace = "default"): Map<string, Set<string>> {
  const fields = new Map<string, Set<string>>();
  for (const template of buildIndexTemplates({ namespace })) {
    if (!template.body.index_patterns.some((p) => indexPatternMatches(pattern, p))) continue;
    for (const [field, type] of fieldTypes(template)) {
      if (!fields.has(field)) fields.set(field, new Set());
      fields.get(field)!.add(type);
    }
  }
  return fields;
}

/** The fields a KQL query names, e.g. `event.dataset : "x" and "a.b": *` → event.dataset, a.b. */
export function kqlFields(query: string): string[] {
  return [...query.matchAll(/(?:"([^"]+)"|([A-Za-z@_][\w.@]*))\s*:/g)].map((m) => (m[1] ?? m[2])!);
}
