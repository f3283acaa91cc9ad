// npm run docs:fields: rewrites the README's field reference and rejection table from the contract.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { withGeneratedSections } from "./field-reference.ts";

const file = resolve(import.meta.dirname, "..", "..", "README.md");
const before = readFileSync(file, "utf8");
const after = await withGeneratedSections(before, file);
if (after !== before) writeFileSync(file, after);
process.stdout.write(after === before ? "README.md is up to date\n" : "README.md updated\n");
