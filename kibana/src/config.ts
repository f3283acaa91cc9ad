import { resolve } from "node:path";
import {
  Duration,
  loadOptions,
  readSecretFile,
  Url,
  urlInvalid,
  type ConfigOf,
  type ProgramOptions,
  Type,
} from "@cluster-telemetry/contract/config";

export { ConfigError, ConfigExit } from "@cluster-telemetry/contract/config";

/**
 * The one configuration object of `kibana:import`, built from flags, then environment variables.
 * Nothing else reads process.env. Secrets come from files or the environment, never from flags,
 * so they stay out of shell history and process listings.
 */
export interface ImportConfig {
  /** Kibana's base URL without a trailing slash, e.g. "https://kibana.example:5601". */
  kibanaUrl: string;
  credentials: Credentials;
  /** PEM of a private CA that signed Kibana's certificate; undefined trusts the system store. */
  ca: Buffer | undefined;
  /** How long to wait for Kibana to become available before giving up, in ms. @defaultValue 120000 */
  timeoutMs: number;
  /** The NDJSON file of saved objects to import. */
  savedObjectsFile: string;
}

export type Credentials =
  | { kind: "none" }
  | { kind: "basic"; username: string; password: string }
  | { kind: "apiKey"; apiKey: string };

export const DEFAULT_SAVED_OBJECTS_FILE = resolve(
  import.meta.dirname,
  "..",
  "saved-objects",
  "cluster-telemetry.ndjson",
);

/** The options of `kibana:import`, each declared once: parsing, --help and kibana/README.md's table. */
export const IMPORT_OPTIONS = {
  kibanaUrl: {
    schema: Url("http", "https"),
    invalid: urlInvalid("http", "https"),
    description: "Kibana base URL",
    flag: "--kibana",
    placeholder: "url",
    env: "KIBANA_URL",
    default: "http://localhost:5601",
  },
  username: {
    schema: Type.String({ minLength: 1 }),
    description: "user for basic authentication",
    placeholder: "name",
    env: "KIBANA_USERNAME",
  },
  password: { schema: Type.String(), description: "user's password", secret: true, env: "KIBANA_PASSWORD" },
  apiKey: { schema: Type.String(), description: "encoded API key", secret: true, env: "KIBANA_API_KEY" },
  caFile: {
    schema: Type.String(),
    description: "PEM of the CA that signed Kibana's certificate",
    defaultText: "the system's CAs",
    readable: true,
  },
  timeoutMs: {
    schema: Duration({ minimum: "1ms" }),
    description: "how long to wait for Kibana, e.g. 90s, 5m",
    flag: "--timeout",
    default: 120_000,
  },
  savedObjectsFile: {
    schema: Type.String({ minLength: 1 }),
    description: "saved objects to import",
    flag: "--file",
    readable: true,
    default: DEFAULT_SAVED_OBJECTS_FILE,
    defaultText: "the bundled cluster-telemetry.ndjson",
  },
} satisfies ProgramOptions["options"];

export const IMPORT_PROGRAM: ProgramOptions<typeof IMPORT_OPTIONS> = {
  name: "kibana-import",
  description:
    "Imports the cluster-telemetry data view and dashboard into Kibana, overwriting earlier copies.",
  options: IMPORT_OPTIONS,
};

/** What no single option can say: a URL without credentials in it, one kind of credentials. */
function importProblems(c: Partial<ConfigOf<typeof IMPORT_OPTIONS>>): string[] {
  const problems: string[] = [];
  if (c.kibanaUrl !== undefined) {
    const url = new URL(c.kibanaUrl);
    // Printing the URL in a message would then print the secret.
    if (url.username || url.password)
      problems.push("the Kibana URL must not hold credentials; use --username with --password-file");
    else if (url.search || url.hash)
      problems.push(`Kibana URL "${c.kibanaUrl}" must not have a query or fragment`);
  }
  if (c.apiKey !== undefined && (c.username !== undefined || c.password !== undefined))
    problems.push("give either an API key or a username and password, not both");
  else if (c.password !== undefined && c.username === undefined)
    problems.push("a password needs a username (--username or KIBANA_USERNAME)");
  else if (c.username !== undefined && c.password === undefined)
    problems.push(
      `user "${c.username}" needs a password (--password-file, KIBANA_PASSWORD or KIBANA_PASSWORD_FILE)`,
    );
  return problems;
}

export function loadImportConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ImportConfig {
  const c = loadOptions(IMPORT_PROGRAM, argv, env, importProblems);
  const url = new URL(c.kibanaUrl);
  const ca = c.caFile === undefined ? undefined : readSecretFile(c.caFile);
  return {
    kibanaUrl: `${url.origin}${url.pathname}`.replace(/\/+$/, ""),
    credentials:
      c.apiKey !== undefined
        ? { kind: "apiKey", apiKey: c.apiKey }
        : c.username !== undefined && c.password !== undefined
          ? { kind: "basic", username: c.username, password: c.password }
          : { kind: "none" },
    ca: ca && "text" in ca ? Buffer.from(ca.text) : undefined,
    timeoutMs: c.timeoutMs,
    savedObjectsFile: resolve(c.savedObjectsFile),
  };
}

export function loadImportConfigFromProcess(): ImportConfig {
  return loadImportConfig(process.argv.slice(2), process.env);
}
