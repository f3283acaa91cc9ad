import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { ES_TYPE } from "./fields.ts";
import { METRIC_SCHEMAS, isMetricName, type MetricName, type Sample } from "./metrics.ts";
import { StatusMessage } from "./status.ts";
import { STATUS_LEVEL, parseTopic } from "./topics.ts";

/**
 * The largest payload the contract allows. The agent refuses to publish more (mqtt.js would
 * otherwise resend an oversized message forever), the ingest dead-letters more.
 */
export const MAX_PAYLOAD_BYTES = 16 * 1024;

let validators: Map<string, ValidateFunction> | undefined;

/**
 * Compiled at the first validation, not at import: compiling costs a process about 15 MB of
 * resident memory and 0.2 s of CPU (npm run bench:agent), which the agent's daemon, importing the
 * contract for its topics, never pays.
 */
function validatorFor(kind: string): ValidateFunction | undefined {
  if (!validators) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    ajv.addKeyword({ keyword: ES_TYPE, schemaType: "string" });
    validators = new Map<string, ValidateFunction>(
      Object.entries(METRIC_SCHEMAS).map(([name, schema]) => [name, ajv.compile(schema)]),
    );
    validators.set(STATUS_LEVEL, ajv.compile(StatusMessage));
  }
  return validators.get(kind);
}

/** A valid message: its host and kind, the parsed message, and the payload as the JSON text it was. */
export type Decoded =
  | { ok: true; host: string; kind: MetricName; message: Sample; text: string }
  | { ok: true; host: string; kind: typeof STATUS_LEVEL; message: StatusMessage; text: string }
  | { ok: false; reason: string; host?: string; kind?: string };

/**
 * Checks one MQTT message against the contract: topic shape, size, JSON, schema, and that the
 * host in the payload is the host of the topic (a node may publish only as itself).
 */
export function decodeMessage(topic: string, payload: Uint8Array | string): Decoded {
  const parsed = parseTopic(topic);
  if (!parsed.ok) return { ok: false, reason: `bad topic: ${parsed.reason}` };
  const { host, kind } = parsed;
  const size = typeof payload === "string" ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > MAX_PAYLOAD_BYTES) {
    return { ok: false, host, kind, reason: `oversized: ${size} bytes, the limit is ${MAX_PAYLOAD_BYTES}` };
  }
  const validate = validatorFor(kind);
  if (!validate) return { ok: false, host, kind, reason: `unknown metric "${kind}"` };
  let message: unknown;
  // A view, not a copy, of the received bytes.
  const text =
    typeof payload === "string"
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("utf8");
  try {
    message = JSON.parse(text);
  } catch (error) {
    return { ok: false, host, kind, reason: `not JSON: ${(error as Error).message}` };
  }
  if (!validate(message))
    return { ok: false, host, kind, reason: `schema: ${describeErrors(validate.errors)}` };
  const payloadHost = (message as { host: { name: string } }).host.name;
  if (payloadHost !== host) {
    return {
      ok: false,
      host,
      kind,
      reason: `spoofed: payload host "${payloadHost}" differs from topic host "${host}"`,
    };
  }
  if (kind === STATUS_LEVEL) return { ok: true, host, kind, message: message as StatusMessage, text };
  if (isMetricName(kind)) return { ok: true, host, kind, message: message as Sample, text };
  return { ok: false, host, kind, reason: `unknown metric "${kind}"` };
}

/** Validates an object the agent is about to publish; returns the problems, or undefined. */
export function schemaProblems(kind: MetricName | typeof STATUS_LEVEL, message: unknown): string | undefined {
  const validate = validatorFor(kind);
  if (!validate) return `unknown metric "${kind}"`;
  return validate(message) ? undefined : describeErrors(validate.errors);
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return "invalid";
  return errors
    .slice(0, 5)
    .map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`)
    .join("; ");
}
