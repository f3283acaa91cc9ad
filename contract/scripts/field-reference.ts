// The README's field reference and rejection table, generated from the contract's schemas: each
// leaf's Elasticsearch type, time-series role, unit and `description`. `npm run docs:fields` writes
// them between their markers; test/contract/readme.test.ts fails when README.md differs.
import type { TSchema } from "@sinclair/typebox";
import { Type } from "@sinclair/typebox";
import { format, resolveConfig } from "prettier";
import {
  ENTITY_KEY,
  ES_DIMENSION,
  ES_METRIC,
  ES_TYPE,
  METRIC_FIELDS,
  METRIC_NAMES,
  REJECTION_REASONS,
  StatusMessage,
  UNIT,
  envelope,
} from "../src/index.ts";

export const FIELDS_BEGIN =
  "<!-- field-reference: generated from the contract by `npm run docs:fields`, checked by test/contract/readme.test.ts -->";
export const FIELDS_END = "<!-- field-reference: end -->";
export const REASONS_BEGIN =
  "<!-- rejection-reasons: generated from the contract by `npm run docs:fields`, checked by test/contract/readme.test.ts -->";
export const REASONS_END = "<!-- rejection-reasons: end -->";

interface Row {
  field: string;
  type: string;
  unit: string;
  meaning: string;
}

type Node = TSchema & Record<string, unknown>;

/** One row per leaf under `path`; an object with a description of its own is one row, `path.*`. */
function rows(schema: TSchema, path: string, optional = false, notes: string[] = []): Row[] {
  const node = schema as Node;
  const esType = node[ES_TYPE];
  if (typeof esType === "string") {
    const role = [
      esType,
      ...(typeof node[ES_METRIC] === "string" ? [node[ES_METRIC]] : []),
      ...(node[ES_DIMENSION] === true ? ["dimension"] : []),
      ...notes,
      ...(optional ? ["optional"] : []),
    ];
    return [
      {
        field: `\`${path}\``,
        type: role.join(", "),
        unit: typeof node[UNIT] === "string" ? node[UNIT] : "",
        meaning: typeof node.description === "string" ? node.description : "",
      },
    ];
  }
  if (node.type === "array" && node.items) {
    const key = node[ENTITY_KEY];
    if (typeof key !== "string") return rows(node.items as TSchema, path, optional, [...notes, "array"]);
    // One document per entity: the items' fields are the document's, the key is a dimension.
    return rows(node.items as TSchema, path, optional, notes).map((row) =>
      row.field === `\`${path}.${key}\`` ? { ...row, type: `${row.type}, dimension (entity key)` } : row,
    );
  }
  if (node.type === "object" && node.properties) {
    const children = Object.entries(node.properties as Record<string, TSchema>);
    if (typeof node.description === "string" && children.length > 0) {
      const [first] = rows(children[0]![1], `${path}.*`, true, notes);
      return [{ ...first!, meaning: node.description }];
    }
    const required = new Set((node.required as string[] | undefined) ?? []);
    return children.flatMap(([key, child]) =>
      rows(child, path ? `${path}.${key}` : key, optional || !required.has(key), notes),
    );
  }
  return [];
}

const table = (header: string[], lines: string[][]) =>
  [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...lines.map((cells) => `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`),
  ].join("\n");

/** The Markdown between the field-reference markers. */
export function fieldReference(): string {
  const { system: _system, ...common } = (envelope("<metric>", Type.Object({})) as Node).properties as Record<
    string,
    TSchema
  >;
  const everyMessage = rows(Type.Object(common), "").map((r) =>
    r.field.startsWith("`metricset.") ? { ...r, meaning: `${r.meaning} (samples only)` } : r,
  );
  everyMessage.push({
    field: "`event.ingested`",
    type: "date",
    unit: "",
    meaning: "set by the ingest, not sent: the moment it received the message",
  });
  const perMetric = [
    ...METRIC_NAMES.flatMap((metric) =>
      rows(METRIC_FIELDS[metric], `system.${metric}`).map((r) => [metric, r]),
    ),
    ...rows((StatusMessage as Node).properties!.telemetry as TSchema, "telemetry").map((r) => ["status", r]),
  ] as Array<[string, Row]>;
  return [
    "Every message:",
    "",
    table(
      ["field", "type", "unit", "meaning"],
      everyMessage.map((r) => [r.field, r.type, r.unit, r.meaning]),
    ),
    "",
    "Per metric:",
    "",
    table(
      ["metric", "field", "type", "unit", "meaning"],
      perMetric.map(([metric, r]) => [metric, r.field, r.type, r.unit, r.meaning]),
    ),
  ].join("\n");
}

/** The Markdown between the rejection-reasons markers. */
export function rejectionTable(): string {
  return table(
    ["`error.type`", "the message"],
    Object.entries(REJECTION_REASONS).map(([code, text]) => [`\`${code}\``, text]),
  );
}

function replaceBetween(text: string, begin: string, end: string, body: string, file: string): string {
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${file} has no "${begin}" … "${end}" section`);
  return `${text.slice(0, from + begin.length)}\n\n${body}\n\n${text.slice(to)}`;
}

/** README.md's text with both generated sections replaced, formatted as prettier formats the repository. */
export async function withGeneratedSections(readme: string, file: string): Promise<string> {
  let text = replaceBetween(readme, FIELDS_BEGIN, FIELDS_END, fieldReference(), file);
  text = replaceBetween(text, REASONS_BEGIN, REASONS_END, rejectionTable(), file);
  return format(text, { ...(await resolveConfig(file)), parser: "markdown" });
}
