import { CommanderError, type Command } from "commander";

/**
 * How every program of the project reports its configuration: every invalid value at once, exit
 * code 2; --help and --version printed, exit code 0. Shared by the agent, the ingest and the
 * dashboard import.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** What --help and --version print: handled by the caller, which exits 0. */
export class ConfigExit extends Error {
  constructor(readonly output: string) {
    super(output);
    this.name = "ConfigExit";
  }
}

/** Builds a program's configuration, or ends the process: 0 after help or version, 2 on invalid values. */
export function configuredOrExit<T>(program: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigExit) {
      process.stdout.write(error.output);
      process.exit(0);
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`${program}: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/**
 * Parses a program's flags: --help and --version become ConfigExit (printed, exit 0), a flag
 * commander refuses a ConfigError (exit 2).
 */
export function parseFlags<T>(program: Command, argv: string[]): T {
  program.exitOverride().configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  try {
    program.parse(argv, { from: "user" });
    return program.opts<T & Record<string, unknown>>();
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.help")
        throw new ConfigExit(program.helpInformation());
      if (error.code === "commander.version") throw new ConfigExit(`${program.version() ?? ""}\n`);
      throw new ConfigError([error.message.replace(/^error: /, "")]);
    }
    throw error;
  }
}

/**
 * The arguments without a leading `--`: `npx telemetry-agent -- --once` passes it through, and
 * commander would take every flag after it for an operand.
 */
export function withoutLeadingDashes(argv: string[]): string[] {
  return argv[0] === "--" ? argv.slice(1) : argv;
}
