import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

// deploy/docker-compose.yml (and the scale override) as docker-compose resolves them, for the
// tests of the deployment.

export const root = resolve(import.meta.dirname, "..", "..");
export const deploy = join(root, "deploy");
export const BASE = join(deploy, "docker-compose.yml");
export const SCALE = join(deploy, "docker-compose.scale.yml");
export const ENV_EXAMPLE = join(deploy, ".env.example");
export const GIB = 1024 ** 3;

export interface Healthcheck {
  test?: string[] | string;
  disable?: boolean;
}
export interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[] | string;
  restart?: string;
  healthcheck?: Healthcheck;
  depends_on?: Record<string, { condition?: string }> | string[];
  mem_limit?: string | number;
  ports?: (string | { target: number; published?: string | number; host_ip?: string })[];
  volumes?: (string | { type: string; source?: string; target: string; read_only?: boolean })[];
  environment?: Record<string, string | null>;
  profiles?: string[];
  networks?: string[] | Record<string, unknown>;
}
export interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** Compose's own environment only: the test runner's MQTT_URL, REDIS_URL… must not leak into interpolation. */
export const composeEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmpdir() };

export function composeConfig(files: string[], envFile: string) {
  const args = [...files.flatMap((f) => ["-f", f]), "--env-file", envFile, "config"];
  return spawnSync("docker-compose", args, { cwd: root, env: composeEnv, encoding: "utf8", timeout: 60_000 });
}

/**
 * Debian's docker-compose (1.29) prints the resolved file only as YAML. It is a Python program that
 * depends on PyYAML, so that parser is always beside it: it turns the output into JSON here.
 */
export function parseYaml(text: string): Compose {
  const converted = spawnSync(
    "python3",
    ["-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"],
    { input: text, encoding: "utf8" },
  );
  assert.equal(converted.status, 0, converted.stderr);
  return JSON.parse(converted.stdout) as Compose;
}

export function resolved(files: string[]): Compose {
  const result = composeConfig(files, ENV_EXAMPLE);
  assert.equal(result.status, 0, `docker-compose config failed:\n${result.stderr}`);
  return parseYaml(result.stdout);
}

export function bytes(limit: string | number | undefined, service: string): number {
  if (typeof limit === "number") return limit;
  const match = /^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$/i.exec(limit ?? "");
  assert.ok(match, `${service} has no memory limit (mem_limit)`);
  const unit = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: GIB }[match[2]!.toLowerCase() as "" | "b"];
  return Number(match[1]) * unit;
}

/** "127.0.0.1:9200:9200/tcp" → { hostIp: "127.0.0.1", target: 9200 }. */
export function published(service: Service): { hostIp: string; target: number }[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port !== "string") return { hostIp: port.host_ip ?? "0.0.0.0", target: port.target };
    const parts = port.replace(/\/\w+$/, "").split(":");
    return { hostIp: parts.length === 3 ? parts[0]! : "0.0.0.0", target: Number(parts.at(-1)) };
  });
}
