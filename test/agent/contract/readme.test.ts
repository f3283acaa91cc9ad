import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import type { TSchema } from "@sinclair/typebox";
import { METRIC_FIELDS, METRIC_NAMES, REJECTION_REASONS, sampleTopic } from "@cluster-telemetry/contract";

const readme = readFileSync(resolve(import.meta.dirname, "../../../README.md"), "utf8");

/** The rows of the Markdown table that follows `marker`: first cell → second cell. */
function tableAfter(marker: string): Map<string, string> {
  const start = readme.indexOf(marker);
  assert.ok(start >= 0, `README.md has no "${marker}"`);
  const rows = new Map<string, string>();
  const lines = readme.slice(start).split("\n").slice(1);
  for (const line of lines.slice(lines.findIndex((l) => l.startsWith("|")))) {
    if (!line.startsWith("|")) break;
    const [key, text] = line
      .split("|")
      .slice(1, 3)
      .map((cell) => cell.trim());
    if (key && !key.startsWith("-") && key !== "`error.type`") rows.set(key.replaceAll("`", ""), text ?? "");
  }
  return rows;
}

describe("README.md", () => {
  it("lists exactly the contract's rejection reasons, each with its description", () => {
    const table = tableAfter("<!-- rejection-reasons:");
    assert.deepEqual(Object.fromEntries(table), REJECTION_REASONS);
  });
});

/** Every leaf of a metric's schema as a dotted path under `system.<metric>` (a list by its items). */
function leaves(schema: TSchema, path: string): string[] {
  if (schema.type === "array") return leaves(schema.items as TSchema, path);
  if (schema.type !== "object") return [path];
  return Object.entries((schema.properties ?? {}) as Record<string, TSchema>).flatMap(([key, child]) =>
    leaves(child, `${path}.${key}`),
  );
}

describe("README.md's topics and fields", () => {
  it("lists every metric's topic and names every field of every metric", () => {
    const fieldCells = [...readme.matchAll(/`(system\.[\w.]+)`/g)].map((m) => m[1]);
    for (const metric of METRIC_NAMES) {
      assert.ok(readme.includes(`| \`${sampleTopic("<host>", metric)}\``), `the topic of ${metric}`);
      for (const field of leaves(METRIC_FIELDS[metric] as unknown as TSchema, `system.${metric}`))
        assert.ok(fieldCells.includes(field), `${field} is in the field reference`);
    }
  });
});
