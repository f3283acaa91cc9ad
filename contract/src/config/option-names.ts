import { Kind } from "@sinclair/typebox";
import { formatDuration, isDuration } from "./duration.ts";
import type { OptionSpec, ProgramOptions } from "./option.ts";

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The option's long flag, e.g. "--batch-size"; undefined for an option read from the environment only. */
export function flagOf(key: string, spec: OptionSpec): string | undefined {
  if (spec.flag === false) return undefined;
  return spec.flag ?? `--${kebab(key)}${spec.secret ? "-file" : ""}`;
}

/** The option's key in the program's config file; undefined when the program has no file. */
export function fileKeyOf(key: string, spec: OptionSpec, program: ProgramOptions): string | undefined {
  if (program.configFileEnv === undefined || spec.fileKey === false) return undefined;
  return spec.fileKey ?? (spec.secret ? `${key}File` : key);
}

/** The environment variables that set the option: a secret's own and its `_FILE` variant. */
export function envsOf(spec: OptionSpec): string[] {
  if (spec.env === undefined) return [];
  return spec.secret ? [spec.env, `${spec.env}_FILE`] : [spec.env];
}

/** Whether the flag is a switch (`--once`) rather than one taking a value: a boolean that defaults to false. */
export function isSwitch(spec: OptionSpec): boolean {
  return spec.schema[Kind] === "Boolean" && spec.default === false;
}

/** The flag's value as --help shows it: <duration>, <n>, <path>, <value>. */
export function placeholderOf(spec: OptionSpec): string | undefined {
  if (isSwitch(spec)) return undefined;
  if (spec.placeholder) return `<${spec.placeholder}>`;
  if (spec.secret || spec.readable) return "<path>";
  if (isDuration(spec.schema)) return "<duration>";
  const kind = spec.schema[Kind] as string;
  if (kind === "Integer" || kind === "Number") return "<n>";
  if (kind === "Boolean") return "<true|false>";
  if (kind === "Union") {
    const literals = (spec.schema.anyOf as Array<{ const?: unknown }>).map((s) => s.const);
    if (literals.every((l) => l !== undefined)) return `<${literals.join("|")}>`;
  }
  return "<value>";
}

/** A value as --help, the README and problems print it: durations with their unit. */
export function valueText(spec: OptionSpec, value: unknown): string {
  if (typeof value === "number" && isDuration(spec.schema)) return formatDuration(value);
  if (typeof value === "boolean" && isSwitch(spec)) return value ? "on" : "off";
  return String(value);
}

/** The default as --help and the README state it; never a secret's. */
export function defaultTextOf(spec: OptionSpec): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  if (spec.default === undefined || typeof spec.default === "function") return "none";
  return valueText(spec, spec.default);
}
