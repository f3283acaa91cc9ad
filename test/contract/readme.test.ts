import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { REJECTION_REASONS } from "@cluster-telemetry/contract";
import { REASONS_BEGIN, withGeneratedSections } from "../../contract/scripts/field-reference.ts";

const file = resolve(import.meta.dirname, "../../README.md");
const readme = readFileSync(file, "utf8");

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
  it("holds the field reference and the rejection table exactly as npm run docs:fields writes them", async () => {
    const generated = await withGeneratedSections(readme, file);
    assert.ok(generated === readme, "README.md differs from the contract: run npm run docs:fields");
  });

  it("lists exactly the contract's rejection reasons, each with its description", () => {
    const table = tableAfter(REASONS_BEGIN);
    assert.deepEqual(Object.fromEntries(table), REJECTION_REASONS);
  });
});
