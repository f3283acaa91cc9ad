import type { TSchema } from "@sinclair/typebox";
import {
  ENTITY_KEY,
  ES_DIMENSION,
  ES_METRIC,
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

/**
 * The mapping of one schema node: objects recurse, arrays take their items' type, leaves their
 * x-es-type, with the time-series parameters the Elastic `system` integration declares: gauges and
 * counters as `time_series_metric`, the host name and each per-entity metric's key as
 * `time_series_dimension`. Standard data streams accept and keep them; they make a switch to
 * `index.mode: time_series` a settings change, and tell Kibana how each field aggregates.
 */
export function mappingOf(schema: TSchema): Mapping | undefined {
  const node = schema as Record<string, unknown>;
  const esType = node[ES_TYPE];
  if (typeof esType === "string") {
    const mapping: Mapping =
      esType === "date" ? { type: "date", format: "strict_date_optional_time" } : { type: esType };
    if (typeof node[ES_METRIC] === "string") mapping.time_series_metric = node[ES_METRIC];
    if (node[ES_DIMENSION] === true) mapping.time_series_dimension = true;
    return mapping;
  }
  if (schema.type === "array" && schema.items) {
    const items = mappingOf(schema.items as TSchema);
    const key = node[ENTITY_KEY];
    const keyField = (items?.properties as Record<string, Mapping> | undefined)?.[key as string];
    // An entity's key tells its series from its siblings' on the same host, as host.name tells hosts apart.
    // A field is a dimension or a metric, never both: the key names the entity, it measures nothing.
    if (typeof key === "string" && keyField) {
      delete keyField.time_series_metric;
      keyField.time_series_dimension = true;
    }
    return items;
  }
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
        module: { type: "keyword" },
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
 * Every document also carries `event.ingested`, set by the ingest (see documents.ts), which is not
 * part of the wire contract: an agent does not send it.
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
