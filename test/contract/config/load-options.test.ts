import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  ConfigError,
  ConfigExit,
  Duration,
  helpText,
  loadOptions,
  optionsMarkdown,
  Type,
  type ProgramOptions,
} from "@cluster-telemetry/contract/config";

const dir = mkdtempSync(join(tmpdir(), "config-kit-"));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const OPTIONS = {
  batchSize: {
    schema: Type.Integer({ minimum: 1 }),
    description: "documents per bulk",
    env: "T_BATCH_SIZE",
    default: 1000,
  },
  flushIntervalMs: {
    schema: Duration({ minimum: "10ms", maximum: "1m" }),
    description: "longest wait before a flush",
    flag: "--flush-interval",
    fileKey: "flushInterval",
    env: "T_FLUSH_INTERVAL",
    default: 1000,
  },
  name: { schema: Type.String({ minLength: 1 }), description: "a name", env: "T_NAME" },
  password: { schema: Type.String(), description: "password", secret: true, env: "T_PASSWORD" },
  once: { schema: Type.Boolean(), description: "once", default: false, fileKey: false },
} satisfies ProgramOptions["options"];

const PROGRAM: ProgramOptions<typeof OPTIONS> = {
  name: "kit-test",
  description: "A program of the kit's tests.",
  version: "1.2.3",
  options: OPTIONS,
  configFileEnv: "T_CONFIG",
};

const load = (argv: string[], env: NodeJS.ProcessEnv = {}) => loadOptions(PROGRAM, argv, env);
const problemsOf = (argv: string[], env: NodeJS.ProcessEnv = {}): string[] => {
  try {
    load(argv, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail("the configuration was accepted");
};

describe("the configuration kit", () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("takes a flag over the environment over the config file over the default", () => {
    const config = file("c.json", JSON.stringify({ batchSize: 3, flushInterval: "2s", name: "file" }));
    assert.deepEqual(
      { ...load(["--config", config, "--batch-size", "1"], { T_BATCH_SIZE: "2", T_FLUSH_INTERVAL: "3s" }) },
      { batchSize: 1, flushIntervalMs: 3000, name: "file", password: undefined, once: false },
    );
    const fromEnvFile = load([], { T_CONFIG: config });
    assert.equal(fromEnvFile.batchSize, 3);
    assert.equal(fromEnvFile.flushIntervalMs, 2000);
    assert.equal(load([]).batchSize, 1000);
  });

  it("reads a duration with a unit, and a bare number as seconds, into milliseconds", () => {
    assert.equal(load(["--flush-interval", "250ms"]).flushIntervalMs, 250);
    assert.equal(load(["--flush-interval=5"]).flushIntervalMs, 5000);
    assert.equal(load([], { T_FLUSH_INTERVAL: "0.5" }).flushIntervalMs, 500);
  });

  it("refuses a duration with a bad unit, naming the flag and the value", () => {
    assert.deepEqual(problemsOf(["--flush-interval", "5x"]), [
      "--flush-interval: must be a duration such as 10s, 500ms or 7d (a bare number is seconds) (got 5x)",
    ]);
  });

  it("lists every problem at once, each naming its flag, variable or file key", () => {
    const config = file("bad.json", JSON.stringify({ flushInterval: "2 weeks", colour: "blue" }));
    const problems = problemsOf(["--config", config, "--batch-size", "0.5", "--frobnicate", "x", "stray"], {
      T_NAME: "",
      T_PASSWORD_FILE: join(dir, "missing"),
    });
    assert.deepEqual(problems, [
      "unknown option '--frobnicate'",
      "unexpected argument 'stray'",
      `config file ${config}: unknown keys colour`,
      "--batch-size: must be a whole number (got 0.5)",
      `flushInterval (config file ${config}): must be a duration such as 10s, 500ms or 7d (a bare number is seconds) (got 2 weeks)`,
      `T_PASSWORD_FILE: cannot read ${join(dir, "missing")} (ENOENT)`,
    ]);
  });

  it("refuses unknown flags, a switch given a value and a flag without one", () => {
    assert.deepEqual(problemsOf(["--once=yes", "--name"]), ["--once takes no value", "--name needs a value"]);
    assert.deepEqual(problemsOf(["--name", "--once"]), ["--name needs a value"]);
  });

  it("reads a secret from its file or its variable, never from a flag's value", () => {
    const secret = file("password", "s3cret\n");
    assert.equal(load(["--password-file", secret]).password, "s3cret");
    assert.equal(load([], { T_PASSWORD_FILE: secret }).password, "s3cret");
    assert.equal(load([], { T_PASSWORD: "from-env" }).password, "from-env");
    assert.deepEqual(problemsOf(["--password", "s3cret"]), ["unknown option '--password'"]);
    assert.deepEqual(problemsOf(["--password-file", file("empty", "\n")]), [
      `--password-file: ${join(dir, "empty")} is empty`,
    ]);
  });

  it("never prints a secret: not in an error, not in --help, not in the README table", () => {
    const notText = file("json-number", "12345");
    const withSecret = {
      ...PROGRAM,
      options: { ...OPTIONS, password: { ...OPTIONS.password, schema: Type.String({ minLength: 8 }) } },
    };
    let message = "";
    try {
      loadOptions(withSecret, ["--password-file", notText], { T_PASSWORD: "hunter2" });
    } catch (error) {
      if (error instanceof ConfigError) message = error.message;
    }
    assert.match(message, /--password-file: must be at least 8 characters$/m);
    assert.ok(!message.includes("12345"), message);
    try {
      loadOptions(withSecret, [], { T_PASSWORD: "hunter2" });
    } catch (error) {
      if (error instanceof ConfigError) message = error.message;
    }
    assert.match(message, /T_PASSWORD: must be at least 8 characters$/m);
    assert.ok(!message.includes("hunter2"), message);
    const help = helpText(PROGRAM);
    assert.match(
      help,
      /--password-file <path> +file holding the password \(env: T_PASSWORD or T_PASSWORD_FILE/,
    );
    assert.ok(!optionsMarkdown(PROGRAM).includes("hunter2"));
  });

  it("answers --help with every option, its description and default, and --version", () => {
    assert.throws(
      () => load(["--help"]),
      (e: unknown) =>
        e instanceof ConfigExit &&
        /--batch-size <n> +documents per bulk \(env: T_BATCH_SIZE; file: batchSize; default: 1000\)/.test(
          e.output,
        ) &&
        /--flush-interval <duration> .*default: 1s\)/.test(e.output) &&
        /--once +once \(default: off\)/.test(e.output),
    );
    assert.throws(
      () => load(["-V"]),
      (e: unknown) => e instanceof ConfigExit && e.output === "1.2.3\n",
    );
  });

  it("passes what single options cannot check to the program's check, with the valid values", () => {
    const seen: unknown[] = [];
    assert.throws(
      () =>
        loadOptions(PROGRAM, ["--batch-size", "0", "--name", "x"], {}, (values) => {
          seen.push(values.batchSize, values.name);
          return ["name and batch size disagree"];
        }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.at(-1) === "name and batch size disagree" &&
        e.problems.length === 2,
    );
    assert.deepEqual(seen, [undefined, "x"]);
  });
});
