import type { ProgramOptions } from "./option.ts";
import { defaultTextOf, envsOf, fileKeyOf, flagOf, placeholderOf, valueText } from "./option-names.ts";

const code = (text: string | undefined) => (text ? `\`${text.replaceAll("|", "\\|")}\`` : "");
// Outside code, <host> would be read as an HTML tag and vanish.
const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("<", "\\<");

/** A program's options as the Markdown table its README shows (one row per option, the --config file last). */
export function optionsMarkdown(program: ProgramOptions): string {
  const withFile = program.configFileEnv !== undefined;
  const header = ["flag", "environment", ...(withFile ? ["file key"] : []), "default", "description"];
  const rows = Object.entries(program.options).map(([key, spec]) => {
    const flag = flagOf(key, spec);
    const placeholder = placeholderOf(spec);
    return [
      flag === undefined ? "" : code(`${flag}${placeholder ? ` ${placeholder}` : ""}`),
      envsOf(spec).map(code).join(" or "),
      ...(withFile ? [code(fileKeyOf(key, spec, program))] : []),
      // A value is code; a sentence about a default ("none: memory only") is prose.
      spec.defaultText === undefined && spec.default !== undefined && typeof spec.default !== "function"
        ? code(valueText(spec, spec.default))
        : cell(defaultTextOf(spec)),
      cell(
        spec.secret
          ? `file holding the ${spec.description} (or the variable itself; never a flag)`
          : spec.description,
      ),
    ];
  });
  if (withFile)
    rows.push([code("--config <path>"), code(program.configFileEnv), "", "none", "JSON config file"]);
  return [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

/** The text between `<!-- options:NAME -->` and `<!-- /options:NAME -->` in a README, or undefined. */
export function markedSection(readme: string, name: string): { start: number; end: number } | undefined {
  const open = `<!-- options:${name} -->`;
  const start = readme.indexOf(open);
  const end = readme.indexOf(`<!-- /options:${name} -->`);
  if (start < 0 || end < start) return undefined;
  return { start: start + open.length, end };
}

/** The README with the table between its markers replaced by the generated one. */
export function withOptionsTable(readme: string, name: string, table: string): string {
  const section = markedSection(readme, name);
  if (!section) throw new Error(`no <!-- options:${name} --> … <!-- /options:${name} --> markers`);
  return `${readme.slice(0, section.start)}\n\n${table}\n\n${readme.slice(section.end)}`;
}

/**
 * Whether the README's table says what the option table generates, ignoring the column padding
 * and escaping a Markdown formatter may change. Returns the first line that differs, or undefined.
 */
export function optionsTableDifference(readme: string, name: string, table: string): string | undefined {
  const section = markedSection(readme, name);
  if (!section) return `no <!-- options:${name} --> … <!-- /options:${name} --> markers`;
  const squash = (text: string) =>
    text
      .split("\n")
      .map((l) =>
        l
          .trim()
          .replace(/ *\| */g, "|")
          .replace(/\|:?-+:?/g, "|-"),
      )
      .filter((l) => l.length > 0);
  const have = squash(readme.slice(section.start, section.end));
  const want = squash(table);
  for (let i = 0; i < Math.max(have.length, want.length); i++)
    if (have[i] !== want[i])
      return `expected ${want[i] ?? "(end of table)"}\n     got ${have[i] ?? "(end of table)"}`;
  return undefined;
}
