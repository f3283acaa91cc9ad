// npm run certs -- --out <dir> [--hosts broker SANs] [--clients node-1,ingest] [--server name=san,san]
//
// A private CA for one deployment, a broker certificate, and one client certificate per node or
// service. Idempotent: files that exist are kept (so the compose setup can run at every start);
// --force re-issues the certificates named on the command line (credential rotation). The CA is
// never replaced: every node trusts it.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  ConfigError,
  configuredOrExit,
  loadOptions,
  type ProgramOptions,
  Type,
} from "@cluster-telemetry/contract/config";
import { hostNameProblem } from "@cluster-telemetry/contract";
import {
  altNamesOf,
  createAuthority,
  issue,
  loadAuthority,
  type Authority,
  type Pem,
  type Usage,
} from "./authority.ts";
import { serviceNameProblem } from "./service-accounts.ts";

export interface CertsRequest {
  out: string;
  /** Names and addresses clients use to reach the broker. */
  hosts: string[];
  /** Client certificates: the common name, which the broker takes as user name, is the node's host name. */
  clients: string[];
  /** Other TLS servers of the deployment (Elasticsearch, Kibana): name → subject alternative names. */
  servers: Record<string, string[]>;
  days: number;
  caDays: number;
  force: boolean;
  /** --hosts was given: a kept broker certificate is compared with it. */
  hostsGiven?: boolean;
}

export interface CertsReport {
  written: string[];
  kept: string[];
  /** Kept certificates whose names differ from the ones asked for: what to do about each. */
  differing: string[];
}

const PUBLIC = 0o644;
const SECRET = 0o600;

/** Why a name cannot be a certificate's: a host name an MQTT topic level can carry, or an address. */
function nameProblem(item: string): string | undefined {
  const problem = hostNameProblem(item);
  return problem && !/^[0-9a-f:.]+$/i.test(item) ? `"${item}" is not a usable name: ${problem}` : undefined;
}

/** Client certificates name nodes: a node may not carry a service's name (its CN is its MQTT user). */
function nodeNameProblem(name: string): string | undefined {
  const problem = serviceNameProblem(name);
  return nameProblem(name) ?? (problem ? `"${name}" cannot be a node's name: ${problem}` : undefined);
}

/** Comma-separated names, each checked; problems go to the list, the names are returned. */
function list(value: string, what: string, problems: string[], check = nameProblem): string[] {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    const problem = check(item);
    if (problem) problems.push(`${what}: ${problem}`);
  }
  return items;
}

export const CERTS_OPTIONS = {
  out: {
    schema: Type.String({ minLength: 1 }),
    description: "directory for the PEM files (required)",
    placeholder: "dir",
  },
  hosts: {
    schema: Type.String(),
    description: "broker DNS names / IPs, comma separated",
    placeholder: "names",
    defaultText: "localhost,127.0.0.1",
  },
  clients: {
    schema: Type.String(),
    description: "client certificates to issue, comma separated (common name = MQTT user)",
    placeholder: "names",
    default: "",
  },
  server: {
    schema: Type.Array(Type.String()),
    description: "another TLS server certificate (repeatable)",
    placeholder: "name=sans",
    default: [],
  },
  days: {
    schema: Type.Integer({ minimum: 1 }),
    description: "validity of issued certificates, in days",
    default: 825,
  },
  caDays: {
    schema: Type.Integer({ minimum: 1 }),
    description: "validity of a new CA, in days",
    default: 3650,
  },
  force: {
    schema: Type.Boolean(),
    description: "re-issue the certificates named here even if they exist",
    default: false,
  },
} satisfies ProgramOptions["options"];

const CERTS_PROGRAM: ProgramOptions<typeof CERTS_OPTIONS> = {
  name: "npm run certs --",
  description: "Create a private CA, the broker's certificate and client certificates for nodes.",
  options: CERTS_OPTIONS,
};

function write(path: string, content: string, mode: number): void {
  writeFileSync(path, content, { mode });
  // writeFileSync's mode applies only to new files and is masked by the umask.
  chmodSync(path, mode);
}

async function authorityIn(out: string, days: number, report: CertsReport): Promise<Authority> {
  const certPath = join(out, "ca.crt");
  const keyPath = join(out, "ca.key");
  if (existsSync(certPath) && existsSync(keyPath)) {
    report.kept.push(certPath, keyPath);
    return loadAuthority(readFileSync(certPath, "utf8"), readFileSync(keyPath, "utf8"));
  }
  const authority = await createAuthority("cluster-telemetry CA", days);
  write(certPath, authority.certificate, PUBLIC);
  write(keyPath, authority.privateKey, SECRET);
  report.written.push(certPath, keyPath);
  return authority;
}

async function leaf(
  authority: Authority,
  request: CertsRequest,
  report: CertsReport,
  name: string,
  usage: Usage,
  altNames: string[],
  compareNames = usage === "server",
): Promise<void> {
  const certPath = join(request.out, `${name}.crt`);
  const keyPath = join(request.out, `${name}.key`);
  if (!request.force && existsSync(certPath) && existsSync(keyPath)) {
    report.kept.push(certPath, keyPath);
    const has = altNamesOf(readFileSync(certPath, "utf8"));
    const same = has.length === altNames.length && altNames.every((n) => has.includes(n));
    if (compareNames && !same)
      report.differing.push(
        `${certPath} is kept with the names ${has.join(", ") || "(none)"}, not ${altNames.join(", ")}: ` +
          `re-issue it with --force (npm run certs -- --out ${request.out} ${name === "broker" ? `--hosts ${altNames.join(",")}` : `--server ${name}=${altNames.join(",")}`} --force); ` +
          "the CA and the other certificates stay",
      );
    return;
  }
  const pem: Pem = await issue(authority, { commonName: name, altNames, usage, days: request.days });
  write(keyPath, pem.privateKey, SECRET);
  write(certPath, pem.certificate, PUBLIC);
  report.written.push(certPath, keyPath);
}

export async function makeCerts(request: CertsRequest): Promise<CertsReport> {
  mkdirSync(request.out, { recursive: true, mode: 0o755 });
  const report: CertsReport = { written: [], kept: [], differing: [] };
  const authority = await authorityIn(request.out, request.caDays, report);
  await leaf(authority, request, report, "broker", "server", request.hosts, request.hostsGiven ?? false);
  for (const [name, sans] of Object.entries(request.servers))
    await leaf(authority, request, report, name, "server", sans);
  for (const name of request.clients) await leaf(authority, request, report, name, "client", []);
  return report;
}

export function parseCertsArgs(argv: string[]): CertsRequest {
  const problems: string[] = [];
  const o = loadOptions(CERTS_PROGRAM, argv, {}, (c) => (c.out === undefined ? ["--out is required"] : []));
  const servers: Record<string, string[]> = {};
  for (const value of o.server) {
    const [name, sans] = value.split("=", 2);
    if (!name || !sans) problems.push(`--server: "${value}" is not name=san,san`);
    else servers[list(name, "--server", problems)[0]!] = list(sans, "--server", problems);
  }
  const request: CertsRequest = {
    out: o.out!,
    hosts: list(o.hosts ?? "localhost,127.0.0.1", "--hosts", problems),
    clients: list(o.clients, "--clients", problems, nodeNameProblem),
    servers,
    days: o.days,
    caDays: o.caDays,
    force: o.force,
    hostsGiven: o.hosts !== undefined,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return request;
}

async function main(): Promise<void> {
  const request = configuredOrExit("certs", () => parseCertsArgs(process.argv.slice(2)));
  const report = await makeCerts(request);
  for (const path of report.written) process.stdout.write(`wrote ${path}\n`);
  for (const path of report.kept) process.stdout.write(`kept  ${path}\n`);
  for (const line of report.differing) process.stderr.write(`certs: ${line}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
