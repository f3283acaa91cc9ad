import type { OptionSpec, ProgramOptions } from "./option.ts";
import { defaultTextOf, envsOf, fileKeyOf, flagOf, placeholderOf } from "./option-names.ts";

/** One --help entry: the flag as typed, and what it does with where else it is set and its default. */
interface HelpEntry {
  usage: string;
  text: string;
}

/** Where an option is set besides its flag, and its default: "(env: X; file: x; default: y)". */
function whereAndDefault(
  key: string,
  spec: OptionSpec,
  program: ProgramOptions,
  flag: string | undefined,
): string {
  const parts: string[] = [];
  const envs = envsOf(spec);
  // An option without a flag is listed under its variable already.
  if (envs.length > 0 && flag !== undefined) parts.push(`env: ${envs.join(" or ")}`);
  const fileKey = fileKeyOf(key, spec, program);
  if (fileKey !== undefined) parts.push(`file: ${fileKey}`);
  parts.push(`default: ${defaultTextOf(spec)}`);
  return `(${parts.join("; ")})`;
}

/** --help: every option with its description, environment variable, config-file key and default. */
export function helpText(program: ProgramOptions): string {
  const entries: HelpEntry[] = [];
  const envOnly: HelpEntry[] = [];
  for (const [key, spec] of Object.entries(program.options)) {
    const flag = flagOf(key, spec);
    const placeholder = placeholderOf(spec);
    const what = spec.secret ? `file holding the ${spec.description}` : spec.description;
    const entry = { usage: "", text: `${what} ${whereAndDefault(key, spec, program, flag)}` };
    if (flag === undefined) envOnly.push({ ...entry, usage: envsOf(spec).join(", ") });
    else
      entries.push({
        ...entry,
        usage: `${spec.short ? `-${spec.short}, ` : ""}${flag}${placeholder ? ` ${placeholder}` : ""}`,
      });
  }
  if (program.configFileEnv !== undefined)
    entries.push({
      usage: "--config <path>",
      text: `JSON config file; its keys are the file: names above (env: ${program.configFileEnv}; default: none)`,
    });
  entries.push({ usage: "-h, --help", text: "print this help and exit" });
  if (program.version !== undefined)
    entries.push({ usage: "-V, --version", text: "print the version and exit" });
  const width = Math.max(...[...entries, ...envOnly].map((e) => e.usage.length)) + 2;
  const lines = (list: HelpEntry[]) => list.map((e) => `  ${e.usage.padEnd(width)}${e.text}`).join("\n");
  return [
    `Usage: ${program.name} [options]`,
    "",
    program.description,
    "",
    "Options:",
    lines(entries),
    ...(envOnly.length > 0 ? ["", "Environment only:", lines(envOnly)] : []),
    ...(program.epilogue ? ["", program.epilogue] : []),
    "",
  ].join("\n");
}
