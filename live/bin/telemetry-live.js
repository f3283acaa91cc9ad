#!/usr/bin/env node
// Runs the bundle when built (npm run build), else the TypeScript source through tsx.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
const built = fileURLToPath(new URL("../dist/telemetry-live.js", import.meta.url));
if (existsSync(built)) await import(pathToFileURL(built).href);
else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/main.ts");
}
