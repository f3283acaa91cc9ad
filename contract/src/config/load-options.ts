import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Kind, type TSchema } from "@sinclair/typebox";
import { ValueErrorType } from "@sinclair/typebox/errors";
import { Value } from "@sinclair/typebox/value";
import { isDuration, parseDuration } from "./duration.ts";
import { helpText } from "./help-text.ts";
import type { ConfigOf, OptionSpec, OptionTable, ProgramOptions } from "./option.ts";
import { envsOf, fileKeyOf, flagOf, isSwitch, valueText } from "./option-names.ts";
import { ConfigError, ConfigExit } from "./problems.ts";
import { readSecretFile } from "./secret-file.ts";

/** Cross-option checks of a program, run on what the single options gave (an invalid one is undefined). */
export type ConfigCheck<T extends OptionTable> = (values: Partial<ConfigOf<T>>) => string[];

/** Where a value came from, as a problem names it. */
interface Sourced {
  raw: unknown;
  where: string;
  /** For a secret: the value is a path to read. */
  path?: boolean;
}

/**
 * Builds a program's configuration from its option table: flags, then environment variables, then
 * the JSON config file, then defaults. Throws ConfigExit for --help and --version, and ConfigError
 * listing every problem at once: unknown flags and file keys, invalid values (each named by the
 * flag, variable or file key that gave it), unreadable files, and what `check` finds.
 */
export function loadOptions<T extends OptionTable>(
  program: ProgramOptions<T>,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  check?: ConfigCheck<T>,
): ConfigOf<T> {
  const problems: string[] = [];
  const flags = readFlags(program, argv, problems);
  const file = readConfigFile(
    program,
    flags.get("--config") ?? envValue(env, program.configFileEnv),
    problems,
  );
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(program.options)) {
    const source = sourceOf(key, spec, program, flags, env, file);
    values[key] = source
      ? resolve(spec, source, problems)
      : typeof spec.default === "function"
        ? spec.default({ values, env })
        : spec.default;
  }
  if (check) problems.push(...check(values as Partial<ConfigOf<T>>));
  if (problems.length > 0) throw new ConfigError(problems);
  return values as ConfigOf<T>;
}

const envValue = (env: NodeJS.ProcessEnv, name: string | undefined) =>
  // An empty variable is an unset one: compose files pass `X: ${X:-}` through.
  name === undefined ? undefined : env[name] || undefined;

type FlagValue = string | boolean | string[];

function readFlags(
  program: ProgramOptions,
  argv: readonly string[],
  problems: string[],
): Map<string, FlagValue> {
  const known = new Map<string, OptionSpec | "help" | "version" | "config">();
  known.set("--help", "help");
  if (program.version !== undefined) known.set("--version", "version");
  if (program.configFileEnv !== undefined) known.set("--config", "config");
  const parseOptions: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
    ...(program.version === undefined ? {} : { version: { type: "boolean", short: "V" } }),
    ...(program.configFileEnv === undefined ? {} : { config: { type: "string" } }),
  };
  for (const [key, spec] of Object.entries(program.options)) {
    const flag = flagOf(key, spec);
    if (flag === undefined) continue;
    known.set(flag, spec);
    parseOptions[flag.slice(2)] = {
      type: isSwitch(spec) ? "boolean" : "string",
      ...(spec.short ? { short: spec.short } : {}),
    };
  }
  // `npx telemetry-agent -- --once` passes the `--` through; the flags follow it.
  const args = argv[0] === "--" ? argv.slice(1) : [...argv];
  const { tokens } = parseArgs({
    args,
    options: parseOptions,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const flags = new Map<string, FlagValue>();
  let afterUnknown = false;
  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      if (!afterUnknown) problems.push(`unexpected argument '${token.value}'`);
      afterUnknown = false;
      continue;
    }
    const flag = `--${token.name}`;
    const spec = known.get(flag);
    afterUnknown = spec === undefined && !token.inlineValue;
    if (spec === undefined) problems.push(`unknown option '${token.rawName}'`);
    else if (parseOptions[token.name]?.type === "boolean") {
      if (token.inlineValue) problems.push(`${flag} takes no value`);
      else flags.set(flag, true);
    } else if (token.value === undefined || (!token.inlineValue && token.value.startsWith("--")))
      problems.push(`${flag} needs a value`);
    else if (typeof spec === "object" && spec.schema[Kind] === "Array")
      // A repeatable flag (an array option) collects every value given.
      flags.set(flag, [...((flags.get(flag) as string[] | undefined) ?? []), token.value]);
    else flags.set(flag, token.value);
  }
  if (flags.get("--help") === true) throw new ConfigExit(helpText(program));
  if (flags.get("--version") === true) throw new ConfigExit(`${program.version}\n`);
  return flags;
}

interface ConfigFile {
  path: string;
  values: Record<string, unknown>;
}

function readConfigFile(program: ProgramOptions, path: unknown, problems: string[]): ConfigFile | undefined {
  if (typeof path !== "string") return undefined;
  let values: unknown;
  try {
    values = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    problems.push(`config file ${path}: ${reason}`);
    return undefined;
  }
  if (typeof values !== "object" || values === null || Array.isArray(values)) {
    problems.push(`config file ${path}: must hold a JSON object`);
    return undefined;
  }
  const keys = new Set(Object.entries(program.options).map(([key, spec]) => fileKeyOf(key, spec, program)));
  const unknown = Object.keys(values).filter((k) => !keys.has(k));
  if (unknown.length > 0) problems.push(`config file ${path}: unknown keys ${unknown.join(", ")}`);
  return { path, values: values as Record<string, unknown> };
}

function sourceOf(
  key: string,
  spec: OptionSpec,
  program: ProgramOptions,
  flags: Map<string, FlagValue>,
  env: NodeJS.ProcessEnv,
  file: ConfigFile | undefined,
): Sourced | undefined {
  const flag = flagOf(key, spec);
  if (flag !== undefined && flags.has(flag)) return { raw: flags.get(flag), where: flag, path: spec.secret };
  const [own, fileVariant] = envsOf(spec);
  if (envValue(env, own) !== undefined) return { raw: envValue(env, own), where: own! };
  if (envValue(env, fileVariant) !== undefined)
    return { raw: envValue(env, fileVariant), where: fileVariant!, path: true };
  const fileKey = fileKeyOf(key, spec, program);
  if (file && fileKey !== undefined && file.values[fileKey] !== undefined)
    return { raw: file.values[fileKey], where: `${fileKey} (config file ${file.path})`, path: spec.secret };
  return undefined;
}

function resolve(spec: OptionSpec, source: Sourced, problems: string[]): unknown {
  let raw = source.raw;
  if (source.path) {
    if (typeof raw !== "string") {
      problems.push(`${source.where}: must be the path of a file`);
      return undefined;
    }
    const reading = readSecretFile(raw);
    if ("problem" in reading) {
      problems.push(`${source.where}: ${reading.problem}`);
      return undefined;
    }
    raw = reading.text;
  }
  const value = coerce(spec.schema, raw);
  if (!Value.Check(spec.schema, value)) {
    const got = spec.secret ? "" : ` (got ${redact(valueText(spec, value))})`;
    problems.push(`${source.where}: ${complaint(spec, value)}${got}`);
    return undefined;
  }
  if (spec.readable && typeof value === "string") {
    const reading = readSecretFile(value, { allowEmpty: true });
    if ("problem" in reading) problems.push(`${source.where}: ${reading.problem}`);
  }
  return value;
}

const NUMBER = /^\s*-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;

/** Flags and environment variables are text: a number, a boolean or a duration is read from it here. */
function coerce(schema: TSchema, raw: unknown): unknown {
  if (isDuration(schema)) {
    return typeof raw === "string" || typeof raw === "number" ? (parseDuration(raw) ?? raw) : raw;
  }
  if (typeof raw !== "string") return raw;
  const kind = schema[Kind] as string;
  if (kind === "Number" || kind === "Integer") return NUMBER.test(raw) ? Number(raw) : raw;
  if (kind === "Boolean") return raw === "true" ? true : raw === "false" ? false : raw;
  if (kind === "Union") return Value.Convert(schema, raw);
  return raw;
}

function complaint(spec: OptionSpec, value: unknown): string {
  if (spec.invalid !== undefined) return spec.invalid;
  const schema = spec.schema;
  if (isDuration(schema) && typeof value !== "number")
    return "must be a duration such as 10s, 500ms or 7d (a bare number is seconds)";
  const error = Value.Errors(schema, value).First();
  switch (error?.type) {
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return `must be at least ${valueText(spec, schema.minimum)}`;
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return `must be at most ${valueText(spec, schema.maximum)}`;
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMinimum:
      return `must be more than ${valueText(spec, schema.exclusiveMinimum)}`;
    case ValueErrorType.Integer:
      return "must be a whole number";
    case ValueErrorType.Number:
      return "must be a number";
    case ValueErrorType.Boolean:
      return "must be true or false";
    case ValueErrorType.String:
      return "must be text";
    case ValueErrorType.StringMinLength:
      return schema.minLength === 1 ? "must not be empty" : `must be at least ${schema.minLength} characters`;
    case ValueErrorType.StringPattern:
      return `must match ${String(schema.pattern)}`;
    case ValueErrorType.Union: {
      const literals = ((schema.anyOf ?? []) as Array<{ const?: unknown }>).map((s) => s.const);
      if (literals.every((l) => l !== undefined)) return `must be one of ${literals.join(", ")}`;
      return error.message;
    }
    default:
      return error?.message ?? "is invalid";
  }
}

/** A URL's user and password stay out of a problem, as they stay out of logs. */
function redact(text: string): string {
  return text.replace(/\/\/[^/@\s]*@/, "//***@");
}
