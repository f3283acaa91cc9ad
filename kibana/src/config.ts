import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Command, CommanderError } from "commander";
import { ConfigError, ConfigExit } from "@cluster-telemetry/contract/config";

export { ConfigError, ConfigExit };

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
const DEFAULT_KIBANA_URL = "http://localhost:5601";
const DEFAULT_TIMEOUT = "120s";

/** "90s", "2m", "1500ms" or a bare number of seconds → ms; undefined when unreadable. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2] ?? "s";
  return Math.round(amount * (unit === "ms" ? 1 : unit === "s" ? 1000 : 60_000));
}

interface Flags {
  kibana?: string;
  username?: string;
  passwordFile?: string;
  apiKeyFile?: string;
  caFile?: string;
  timeout?: string;
  file?: string;
}

export function loadImportConfig(argv: string[], env: NodeJS.ProcessEnv): ImportConfig {
  const program = new Command("kibana-import")
    .description(
      "Imports the cluster-telemetry data view and dashboard into Kibana, overwriting earlier copies.",
    )
    .option("--kibana <url>", `Kibana base URL (env KIBANA_URL; default ${DEFAULT_KIBANA_URL})`)
    .option("--username <name>", "user for basic authentication (env KIBANA_USERNAME)")
    .option("--password-file <path>", "file holding the user's password (env KIBANA_PASSWORD holds it)")
    .option("--api-key-file <path>", "file holding an encoded API key (env KIBANA_API_KEY holds it)")
    .option("--ca-file <path>", "PEM of the CA that signed Kibana's certificate")
    .option("--timeout <duration>", `how long to wait for Kibana, e.g. 90s, 5m (default ${DEFAULT_TIMEOUT})`)
    .option("--file <path>", "saved objects to import (default: the bundled cluster-telemetry.ndjson)")
    .helpOption("-h, --help")
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });

  let flags: Flags;
  try {
    program.parse(argv, { from: "user" });
    flags = program.opts<Flags>();
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.help")
        throw new ConfigExit(program.helpInformation());
      throw new ConfigError([error.message.replace(/^error: /, "")]);
    }
    throw error;
  }

  const problems: string[] = [];
  const readText = (path: string, what: string): string | undefined => {
    try {
      return readFileSync(path, "utf8").trim();
    } catch (error) {
      problems.push(`${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      return undefined;
    }
  };

  const kibanaUrl = checkUrl(flags.kibana ?? env.KIBANA_URL ?? DEFAULT_KIBANA_URL, problems);

  const timeoutText = flags.timeout ?? DEFAULT_TIMEOUT;
  const timeoutMs = parseDuration(timeoutText);
  if (timeoutMs === undefined || timeoutMs <= 0)
    problems.push(`timeout "${timeoutText}" must be a positive duration such as 90s, 5m or 1500ms`);

  const username = flags.username ?? env.KIBANA_USERNAME;
  const password = flags.passwordFile ? readText(flags.passwordFile, "password file") : env.KIBANA_PASSWORD;
  const apiKey = flags.apiKeyFile ? readText(flags.apiKeyFile, "API key file") : env.KIBANA_API_KEY;
  let credentials: Credentials = { kind: "none" };
  if (apiKey !== undefined && (username !== undefined || flags.passwordFile !== undefined)) {
    problems.push("give either an API key or a username and password, not both");
  } else if (apiKey !== undefined) {
    if (apiKey === "") problems.push("the API key is empty");
    credentials = { kind: "apiKey", apiKey };
  } else if (username !== undefined || password !== undefined) {
    if (!username) problems.push("a password needs a username (--username or KIBANA_USERNAME)");
    else if (password === undefined)
      problems.push(`user "${username}" needs a password (--password-file or KIBANA_PASSWORD)`);
    else credentials = { kind: "basic", username, password };
  }

  const ca = flags.caFile ? readText(flags.caFile, "CA file") : undefined;
  const savedObjectsFile = resolve(flags.file ?? DEFAULT_SAVED_OBJECTS_FILE);
  readText(savedObjectsFile, "saved objects file");

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    kibanaUrl,
    credentials,
    ca: ca === undefined ? undefined : Buffer.from(ca),
    timeoutMs: timeoutMs!,
    savedObjectsFile,
  };
}

function checkUrl(text: string, problems: string[]): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problems.push(`Kibana URL "${text}" is not a URL`);
    return text;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    problems.push(`Kibana URL "${text}" must start with http:// or https://`);
  if (url.username || url.password) {
    // Printing the URL in a message would then print the secret.
    problems.push("the Kibana URL must not hold credentials; use --username with --password-file");
    return `${url.protocol}//${url.host}`;
  }
  if (url.search || url.hash) problems.push(`Kibana URL "${text}" must not have a query or fragment`);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}

export function loadImportConfigFromProcess(): ImportConfig {
  return loadImportConfig(process.argv.slice(2), process.env);
}
