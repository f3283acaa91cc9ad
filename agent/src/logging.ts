import { pino, type Logger } from "pino";

/** JSON lines on stderr; stdout belongs to --once output. Secrets are redacted by path as well. */
export function createLogger(level: string): Logger {
  return pino(
    {
      name: "telemetry-agent",
      level,
      redact: { paths: ["password", "*.password", "token", "*.token"], censor: "[redacted]" },
    },
    pino.destination(2),
  );
}
