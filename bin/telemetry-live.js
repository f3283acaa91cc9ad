#!/usr/bin/env node
// Runs the compiled telemetry-live when built (npm run build), else the TypeScript source through tsx.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
const built = fileURLToPath(new URL("../dist/live/src/main.js", import.meta.url));
if (existsSync(built)) await import(pathToFileURL(built).href);
else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../live/src/main.ts");
}
