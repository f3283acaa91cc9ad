import { pino, type Logger } from "pino";

/** Structured JSON logs on stdout; credentials never enter a log record, and are redacted by path too. */
export function createLogger(level: string): Logger {
  return pino({
    name: "telemetry-live",
    level,
    redact: {
      paths: ["password", "*.password", "token", "*.token", "apiKey", "*.apiKey"],
      censor: "[redacted]",
    },
  });
}
