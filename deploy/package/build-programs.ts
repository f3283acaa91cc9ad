// npm run build: each program the image runs as one ES module in its own package's dist/
// (program-bundles.ts lists them).
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { bundlePrograms } from "./program-bundles.ts";

const repo = resolve(import.meta.dirname, "..", "..");
for (const file of await bundlePrograms())
  process.stdout.write(`${file} (${Math.round(statSync(resolve(repo, file)).size / 1024)} KB)\n`);
