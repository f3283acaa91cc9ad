import type { TSchema } from "@sinclair/typebox";
import {
  ES_TYPE,
  METRIC_SCHEMAS,
  STATUS_LEVEL,
  StatusMessage,
  dataStreamFor,
  deadLetterStreamFor,
  deadLetterTemplateFor,
  indexTemplateFor,
  type StreamKind,
} from "@cluster-telemetry/contract";

/**
 * Index templates derived from the contract's schemas: every leaf of a payload schema carries its
 * Elasticsearch type, so a new metric gets its data stream and mapping with no change here. The
 * data streams they map, one per metric, one for statuses and one for dead letters, are named by
 * the contract (streams.ts).
 */
export interface TemplateOptions {
  /** Data stream namespace. @defaultValue "default" */
  namespace: string;
  /** How often new documents become searchable. Set explicitly so idle shards keep refreshing. @defaultValue "1s" */
  refreshInterval?: string;
  /** Data stream lifecycle retention, e.g. "30d"; omitted when undefined. */
  retention?: string | undefined;
  /** @defaultValue 0 */
  replicas?: number;
}

export interface IndexTemplate {
  name: string;
  body: {
    index_patterns: string[];
    priority: number;
    data_stream: Record<string, never>;
    template: {
      settings: Record<string, unknown>;
      mappings: Record<string, unknown>;
      lifecycle?: { data_retention: string };
    };
    _meta: Record<string, string>;
  };
}

/** Above the stack's built-in metrics-*-* and logs-*-* templates (priority 100). */
export const TEMPLATE_PRIORITY = 600;

type Mapping = Record<string, unknown>;

/**
 * How much of a topic or a reason a dead letter keeps: an MQTT topic may be 65,535 bytes, and a
 * keyword longer than Elasticsearch's 32,766-byte term limit would make the dead letter itself
 * fail. `ignore_above` matches, so a cut value is indexed and a longer one is still stored.
 */
export const DEAD_LETTER_TEXT_LIMIT = 1024;

/** The mapping of one schema node: objects recurse, arrays take their items' type, leaves their x-es-type. */
export function mappingOf(schema: TSchema): Mapping | undefined {
  const esType = (schema as Record<string, unknown>)[ES_TYPE];
  if (typeof esType === "string")
    return esType === "date" ? { type: "date", format: "strict_date_optional_time" } : { type: esType };
  if (schema.type === "array" && schema.items) return mappingOf(schema.items as TSchema);
  if (schema.type === "object" && schema.properties) {
    const properties: Record<string, Mapping> = {};
    for (const [key, child] of Object.entries(schema.properties as Record<string, TSchema>)) {
      const mapped = mappingOf(child);
      if (mapped) properties[key] = mapped;
    }
    return { properties };
  }
  return undefined;
}

const DEAD_LETTER_MAPPINGS = {
  dynamic: false,
  properties: {
    "@timestamp": { type: "date" },
    host: { properties: { name: { type: "keyword" } } },
    event: {
      properties: {
        dataset: { type: "keyword" },
        kind: { type: "keyword" },
        original: { type: "keyword", index: false, doc_values: false },
        ingested: { type: "date" },
      },
    },
    error: {
      properties: {
        message: { type: "keyword", ignore_above: DEAD_LETTER_TEXT_LIMIT + 1 },
        type: { type: "keyword" },
      },
    },
    mqtt: { properties: { topic: { type: "keyword", ignore_above: DEAD_LETTER_TEXT_LIMIT + 1 } } },
  },
};

/**
 * Status documents also carry `event.ingested`, set by the ingest (see documents.ts). Every
 * telemetry data stream maps it: a dashboard sorts status values by it over `metrics-telemetry.*`,
 * and a sort on a field some of those indices do not map fails their shards.
 */
function withIngested(properties: Mapping): Mapping {
  const event = properties.event as { properties: Mapping };
  return { ...properties, event: { properties: { ...event.properties, ingested: { type: "date" } } } };
}

export function buildIndexTemplates(options: TemplateOptions): IndexTemplate[] {
  const settings = {
    number_of_replicas: options.replicas ?? 0,
    refresh_interval: options.refreshInterval ?? "1s",
  };
  const lifecycle = options.retention ? { lifecycle: { data_retention: options.retention } } : {};
  const meta = { managed_by: "telemetry-ingest" };
  const kinds: Array<[StreamKind, TSchema]> = [
    ...(Object.entries(METRIC_SCHEMAS) as Array<[StreamKind, TSchema]>),
    [STATUS_LEVEL, StatusMessage],
  ];
  const templates: IndexTemplate[] = kinds.map(([kind, schema]) => {
    const mapped = mappingOf(schema) as { properties: Mapping };
    return {
      name: indexTemplateFor(kind, options.namespace),
      body: {
        index_patterns: [dataStreamFor(kind, options.namespace)],
        priority: TEMPLATE_PRIORITY,
        data_stream: {},
        template: {
          settings,
          // Unknown fields are not indexed: the contract, not the payload, decides the mapping.
          mappings: { dynamic: false, properties: withIngested(mapped.properties) },
          ...lifecycle,
        },
        _meta: meta,
      },
    };
  });
  templates.push({
    name: deadLetterTemplateFor(options.namespace),
    body: {
      index_patterns: [deadLetterStreamFor(options.namespace)],
      priority: TEMPLATE_PRIORITY,
      data_stream: {},
      template: { settings, mappings: DEAD_LETTER_MAPPINGS, ...lifecycle },
      _meta: meta,
    },
  });
  return templates;
}
