// Lint gates: strict type-aware rules where they catch real bugs (floating promises,
// misused promises), consistent type imports so `verbatimModuleSyntax` stays honest.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  { ignores: ["**/node_modules/", "**/dist/", "**/target/", "coverage/", "*/bin/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/consistent-type-imports": "error",
      // node:test's describe/it return promises the runner itself awaits.
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            { from: "package", package: "node:test", name: ["describe", "it", "test", "suite"] },
          ],
        },
      ],
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-exports": ["error", { restrictDefaultExports: { direct: true } }],
    },
  },
  {
    // Only the config modules may read the environment: one typed config object per program.
    files: ["agent/src/**/*.ts", "ingest/src/**/*.ts", "kibana/src/**/*.ts", "live/src/**/*.ts"],
    ignores: ["agent/src/config/**", "ingest/src/config/**", "kibana/src/config.ts", "live/src/config/**"],
    rules: {
      "no-restricted-properties": [
        "error",
        {
          object: "process",
          property: "env",
          message: "Read configuration through the program's config module.",
        },
      ],
    },
  },
  {
    // Shipped code: each program is built from its own package and the packages it depends on. The
    // dev stack and the tests never ship, and another package's files are reached through its name
    // and exports (contract/ is the ground floor), never a relative path into its folder.
    files: [
      "contract/src/**/*.ts",
      "agent/src/**/*.ts",
      "ingest/src/**/*.ts",
      "live/src/**/*.ts",
      "kibana/src/**/*.ts",
      "deploy/certs/**/*.ts",
      "deploy/setup/**/*.{ts,mjs}",
    ],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [
            {
              name: "@cluster-telemetry/dev-stack",
              message:
                "The dev stack is for tests, benches and `npm start`; a shipped program never imports it.",
            },
          ],
          patterns: [
            {
              regex: "^(\\.\\./)+test(/|$)",
              message: "Shipped code never imports test code.",
            },
            {
              regex: "^(\\.\\./)+(contract|agent|ingest|live|kibana|deploy)/",
              message:
                "Import another package by its name (e.g. @cluster-telemetry/contract, telemetry-ingest/templates), not by a path into its folder.",
            },
          ],
        },
      ],
    },
  },
  {
    // The live page runs in the browser as it is served: plain script, no build step.
    files: ["live/page/**/*.js"],
    languageOptions: { sourceType: "script", globals: { ...globals.browser, uPlot: "readonly" } },
  },
);
