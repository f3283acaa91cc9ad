import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { optionsMarkdown, optionsTableDifference } from "@cluster-telemetry/contract/config";
import { OPTIONS_TABLE_SITES } from "../../../deploy/docs/option-tables.ts";

const root = resolve(import.meta.dirname, "..", "..", "..");

describe("the READMEs' option tables", () => {
  for (const site of OPTIONS_TABLE_SITES) {
    it(`${site.readme} lists ${site.program.name}'s options as its option table generates them (npm run docs)`, () => {
      const readme = readFileSync(resolve(root, site.readme), "utf8");
      const difference = optionsTableDifference(readme, site.marker, optionsMarkdown(site.program));
      assert.equal(difference, undefined, `${site.readme}, table ${site.marker}: ${difference}`);
    });
  }

  it("notices a README row that no longer matches its option", () => {
    const site = OPTIONS_TABLE_SITES.find((s) => s.marker === "telemetry-ingest")!;
    const readme = readFileSync(resolve(root, site.readme), "utf8").replace("`1000`", "`2000`");
    assert.match(optionsTableDifference(readme, site.marker, optionsMarkdown(site.program)) ?? "", /2000/);
  });
});
