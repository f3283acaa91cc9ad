import { readFileSync } from "node:fs";

/** What reading a secret or a certificate file at start gave: its text, or why there is none. */
export type FileReading = { text: string } | { problem: string };

/**
 * The one reader of secret files (passwords, API keys, tokens) and of the files a program must be
 * able to read at start (certificates, keys). The problem names the file and the error code, never
 * its content; surrounding whitespace is dropped, since editors and `echo` add a newline.
 */
export function readSecretFile(path: string, { allowEmpty = false } = {}): FileReading {
  let text: string;
  try {
    text = readFileSync(path, "utf8").trim();
  } catch (error) {
    return {
      problem: `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    };
  }
  if (!allowEmpty && text.length === 0) return { problem: `${path} is empty` };
  return { text };
}
