/**
 * How every program of the project reports its configuration: every invalid value at once, exit
 * code 2; --help and --version printed, exit code 0. Shared by every program.
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
