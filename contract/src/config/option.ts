import type { Static, TSchema } from "@sinclair/typebox";

/** What a computed default may look at: the options resolved so far and the environment. */
export interface DefaultContext {
  values: Readonly<Record<string, unknown>>;
  env: NodeJS.ProcessEnv;
}

/**
 * One option of a program, declared once: the flag, environment variable, config-file key, schema,
 * default and description that parsing, validation, --help and the README table all derive from.
 */
export interface OptionSpec<S extends TSchema = TSchema> {
  /** The one schema language: TypeBox. Durations use Duration(), and the value is milliseconds. */
  schema: S;
  /** One line for --help and the README table. */
  description: string;
  /**
   * The value when no source gives one; a function for defaults computed from other options or the
   * environment (declared after the options it reads). Without a default the value may be undefined.
   */
  default?: Static<S> | ((context: DefaultContext) => Static<S>);
  /** How --help and the README state a computed default. */
  defaultText?: string;
  /** The long flag; default: --kebab-case of the key (secrets: --kebab-case-file). false: none. */
  flag?: string | false;
  /** A one-letter alias, e.g. "p" for -p. */
  short?: string;
  /** The flag's value in --help, e.g. "url"; default from the schema (duration, n, value). */
  placeholder?: string;
  /** The environment variable; secrets also read `${env}_FILE`. */
  env?: string;
  /** The key in the program's config file; default: the option's key (secrets: key + "File"). false: none. */
  fileKey?: string | false;
  /**
   * A value that must never be printed (password, API key): given only through a file (flag and
   * config-file key name a path, `${env}_FILE` too) or the environment variable itself.
   */
  secret?: boolean;
  /** A path to a file the program reads (a certificate, a key): checked readable at start. */
  readable?: boolean;
  /** Replaces the schema's generic complaint, e.g. "must be lower-case letters, digits and _". */
  invalid?: string;
}

export type OptionTable = Record<string, OptionSpec>;

/** A program: its name, what --help says of it, its options and, where it has one, its config file. */
export interface ProgramOptions<T extends OptionTable = OptionTable> {
  name: string;
  description: string;
  /** What --version prints; no --version without it. */
  version?: string;
  options: T;
  /** The environment variable naming the JSON config file read by --config; no config file without it. */
  configFileEnv?: string;
  /** Printed after the options in --help. */
  epilogue?: string;
}

/** The typed configuration a table gives: every option with a default is set. */
export type ConfigOf<T extends OptionTable> = {
  -readonly [K in keyof T]: T[K] extends { default: unknown }
    ? Static<T[K]["schema"]>
    : Static<T[K]["schema"]> | undefined;
};
