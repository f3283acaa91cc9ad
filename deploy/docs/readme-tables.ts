// npm run docs: writes every README's options table from the option tables, between its
// <!-- options:NAME --> and <!-- /options:NAME --> markers, and formats the README as the lint expects.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { format, resolveConfig } from "prettier";
import { optionsMarkdown, withOptionsTable } from "@cluster-telemetry/contract/config";
import { OPTIONS_TABLE_SITES } from "./option-tables.ts";

const root = resolve(import.meta.dirname, "..", "..");

for (const readme of new Set(OPTIONS_TABLE_SITES.map((s) => s.readme))) {
  const path = resolve(root, readme);
  let text = readFileSync(path, "utf8");
  for (const site of OPTIONS_TABLE_SITES.filter((s) => s.readme === readme))
    text = withOptionsTable(text, site.marker, optionsMarkdown(site.program));
  const formatted = await format(text, { ...(await resolveConfig(path)), filepath: path });
  writeFileSync(path, formatted);
  process.stdout.write(`wrote ${readme}\n`);
}
