import { pino, type Logger } from "pino";

/** Structured JSON logs on stdout; credentials never enter a log record, and are redacted by path too. */
export function createLogger(level: string): Logger {
  return pino({
    name: "telemetry-ingest",
    level,
    redact: {
      paths: ["password", "*.password", "apiKey", "*.apiKey", "auth", "*.auth"],
      censor: "[redacted]",
    },
  });
}
