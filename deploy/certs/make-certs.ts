// npm run certs -- --out <dir> [--hosts broker SANs] [--clients node-1,ingest] [--server name=san,san]
//
// A private CA for one deployment, a broker certificate, and one client certificate per node or
// service. Idempotent: files that exist are kept (so the compose setup can run at every start);
// --force re-issues the certificates named on the command line (credential rotation). The CA is
// never replaced: every node trusts it.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Command, CommanderError, InvalidArgumentError } from "commander";
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

function list(value: string): string[] {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    const problem = hostNameProblem(item);
    if (problem && !/^[0-9a-f:.]+$/i.test(item))
      throw new InvalidArgumentError(`"${item}" is not a usable name: ${problem}`);
  }
  return items;
}

/** Client certificates name nodes: a node may not carry a service's name (its CN is its MQTT user). */
function clientList(value: string): string[] {
  const names = list(value);
  for (const name of names) {
    const problem = serviceNameProblem(name);
    if (problem) throw new InvalidArgumentError(`"${name}" cannot be a node's name: ${problem}`);
  }
  return names;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`"${value}" is not a whole number of days`);
  return n;
}

function server(value: string, previous: Record<string, string[]>): Record<string, string[]> {
  const [name, sans] = value.split("=", 2);
  if (!name || !sans) throw new InvalidArgumentError(`"${value}" is not name=san,san`);
  return { ...previous, [list(name)[0]!]: list(sans) };
}

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
  const program = new Command("certs")
    .description("Create a private CA, the broker's certificate and client certificates for nodes.")
    .requiredOption("--out <dir>", "directory for the PEM files")
    .option("--hosts <names>", "broker DNS names / IPs, comma separated", list, ["localhost", "127.0.0.1"])
    .option("--clients <names>", "client certificates to issue (common name = MQTT user)", clientList, [])
    .option("--server <name=sans>", "another TLS server certificate (repeatable)", server, {})
    .option("--days <n>", "validity of issued certificates", positive, 825)
    .option("--ca-days <n>", "validity of a new CA", positive, 3650)
    .option("--force", "re-issue the certificates named here even if they exist", false)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program.parse(argv, { from: "user" });
  const o = program.opts<{
    out: string;
    hosts: string[];
    clients: string[];
    server: Record<string, string[]>;
    days: number;
    caDays: number;
    force: boolean;
  }>();
  return {
    out: o.out,
    hosts: o.hosts,
    clients: o.clients,
    servers: o.server,
    days: o.days,
    caDays: o.caDays,
    force: o.force,
    hostsGiven: program.getOptionValueSource("hosts") === "cli",
  };
}

async function main(): Promise<void> {
  let request: CertsRequest;
  try {
    request = parseCertsArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
    throw error;
  }
  const report = await makeCerts(request);
  for (const path of report.written) process.stdout.write(`wrote ${path}\n`);
  for (const path of report.kept) process.stdout.write(`kept  ${path}\n`);
  for (const line of report.differing) process.stderr.write(`certs: ${line}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
