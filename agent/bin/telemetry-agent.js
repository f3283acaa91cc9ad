#!/usr/bin/env node
// In a checkout, the TypeScript source through tsx, so a bundle left by an earlier build can never
// run stale code; where only the bundle was shipped (the image), the bundle.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
const source = new URL("../src/main.ts", import.meta.url);
const built = new URL("../dist/telemetry-agent.js", import.meta.url);
const tsx = existsSync(fileURLToPath(source))
  ? await import("tsx/esm/api").catch(() => undefined)
  : undefined;
if (tsx) {
  tsx.register();
  await import(source.href);
} else if (existsSync(fileURLToPath(built))) await import(pathToFileURL(fileURLToPath(built)).href);
else {
  process.stderr.write(
    "telemetry-agent: neither its source with tsx nor its bundle (npm run build) is here\n",
  );
  process.exit(1);
}
