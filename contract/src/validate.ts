import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import ajvFormats from "ajv-formats";
import { visit } from "jsonc-parser";
import { ENTITY_KEY, ES_DIMENSION, ES_METRIC, ES_TYPE, UNIT } from "./fields.ts";
import { METRIC_SCHEMAS, entityKeyOf, isMetricName, type MetricName, type Sample } from "./metrics.ts";
import { MAX_CLOCK_SKEW_MS, MAX_MESSAGE_AGE_MS, type RejectionReason } from "./rejection.ts";
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
 * resident memory and 0.2 s of CPU, which the agent's daemon, importing the contract for its
 * topics, never pays.
 */
function validatorFor(kind: string): ValidateFunction | undefined {
  if (!validators) {
    // verbose: an error names the schema it failed, so an integer's range is told from a float's.
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
    ajv.addKeyword({ keyword: ES_TYPE, schemaType: "string" });
    ajv.addKeyword({ keyword: ENTITY_KEY, schemaType: "string" });
    ajv.addKeyword({ keyword: ES_METRIC, schemaType: "string" });
    ajv.addKeyword({ keyword: ES_DIMENSION, schemaType: "boolean" });
    ajv.addKeyword({ keyword: UNIT, schemaType: "string" });
    // ajv-formats is CommonJS: its plugin is the `default` of the module object.
    ajvFormats.default(ajv, { mode: "full", formats: ["date-time"] });
    validators = new Map<string, ValidateFunction>(
      Object.entries(METRIC_SCHEMAS).map(([name, schema]) => [name, ajv.compile(schema)]),
    );
    validators.set(STATUS_LEVEL, ajv.compile(StatusMessage));
  }
  return validators.get(kind);
}

/**
 * A valid message: its host and kind, the parsed message, and its JSON text. The text is the
 * payload as received when that is already compact JSON (what every agent sends), else the message
 * serialized again: one line, whatever whitespace a foreign client put in.
 */
export type Decoded =
  | { ok: true; host: string; kind: MetricName; message: Sample; text: string }
  | { ok: true; host: string; kind: typeof STATUS_LEVEL; message: StatusMessage; text: string }
  | Rejected;

export interface Rejected {
  ok: false;
  code: RejectionReason;
  /** The code and what exactly was wrong, for a person. */
  reason: string;
  host?: string;
  kind?: string;
}

export interface DecodeOptions {
  /** The receiver's clock, for the @timestamp window. @defaultValue Date.now() */
  now?: number;
  /** The message carried MQTT's retain flag (a subscriber sees it with Retain As Published). */
  retained?: boolean;
}

/**
 * Checks one MQTT message against the contract: topic shape, size, JSON without duplicate keys,
 * schema (no unknown field anywhere, real dates, integers within range), @timestamp within the
 * window, and that the host in the payload is the host of the topic (a node may publish only as
 * itself).
 */
export function decodeMessage(
  topic: string,
  payload: Uint8Array | string,
  options: DecodeOptions = {},
): Decoded {
  const parsed = parseTopic(topic);
  if (!parsed.ok) {
    if (!parsed.retired) return reject("bad_topic", parsed.reason);
    return { ...reject("retired_version", parsed.reason), ...parsed.retired };
  }
  const { host, kind } = parsed;
  const refuse = (code: RejectionReason, detail: string): Rejected => ({
    ...reject(code, detail),
    host,
    kind,
  });
  const size = typeof payload === "string" ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > MAX_PAYLOAD_BYTES)
    return refuse("oversized", `${size} bytes, the limit is ${MAX_PAYLOAD_BYTES}`);
  const validate = validatorFor(kind);
  if (!validate) return refuse("unknown_metric", `"${kind}" is not a metric of this contract`);
  let message: unknown;
  // A view, not a copy, of the received bytes.
  const received =
    typeof payload === "string"
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("utf8");
  try {
    message = JSON.parse(received);
  } catch (error) {
    return refuse("not_json", (error as Error).message);
  }
  // Compact JSON as JSON.stringify writes it cannot hold a duplicate key (parsing kept one of
  // them, so the text would differ) nor a line break: one comparison clears the common case.
  let text = received;
  const compact = JSON.stringify(message);
  if (compact !== received) {
    const duplicate = duplicateKey(received);
    if (duplicate)
      return refuse("duplicate_key", `key "${duplicate.key}" appears twice in ${duplicate.path}`);
    text = compact;
  }
  if (!validate(message)) {
    const errors = validate.errors ?? [];
    return refuse(classify(errors), describeErrors(errors));
  }
  const stamped = (message as { "@timestamp": string })["@timestamp"];
  const now = options.now ?? Date.now();
  const at = Date.parse(stamped);
  if (at < now - MAX_MESSAGE_AGE_MS)
    return refuse("timestamp_too_old", `${stamped} is more than ${MAX_MESSAGE_AGE_MS / 3600_000} h old`);
  if (at > now + MAX_CLOCK_SKEW_MS)
    return refuse("timestamp_in_future", `${stamped} is more than ${MAX_CLOCK_SKEW_MS / 60_000} min ahead`);
  const payloadHost = (message as { host: { name: string } }).host.name;
  if (payloadHost !== host)
    return refuse("spoofed", `payload host "${payloadHost}" differs from topic host "${host}"`);
  if (kind === STATUS_LEVEL) return { ok: true, host, kind, message: message as StatusMessage, text };
  // Only a status is retained: a retained sample would greet every new subscriber as if fresh.
  if (options.retained) return refuse("retained_sample", `a ${kind} sample published with the retain flag`);
  if (!isMetricName(kind)) return refuse("unknown_metric", `"${kind}" is not a metric of this contract`);
  const twice = repeatedEntity(kind, message as Sample);
  if (twice) return refuse("duplicate_entity", twice);
  return { ok: true, host, kind, message: message as Sample, text };
}

/** Each entity's key is part of its document's id: two entities with one key would be one document. */
function repeatedEntity(kind: MetricName, message: Sample): string | undefined {
  const key = entityKeyOf(kind);
  if (key === undefined) return undefined;
  const seen = new Set<unknown>();
  const system = message.system as unknown as Record<string, Array<Record<string, unknown>>>;
  for (const entity of system[kind] ?? []) {
    if (seen.has(entity[key])) return `${key} "${String(entity[key])}" appears twice in system.${kind}`;
    seen.add(entity[key]);
  }
  return undefined;
}

function reject(code: RejectionReason, detail: string): Rejected {
  return { ok: false, code, reason: `${code}: ${detail}` };
}

/** Validates an object the agent is about to publish; returns the problems, or undefined. */
export function schemaProblems(kind: MetricName | typeof STATUS_LEVEL, message: unknown): string | undefined {
  const validate = validatorFor(kind);
  if (!validate) return `unknown metric "${kind}"`;
  return validate(message) ? undefined : describeErrors(validate.errors);
}

/** The first key that an object of the (valid JSON) text holds twice, with where it is. */
function duplicateKey(text: string): { key: string; path: string } | undefined {
  const open: Array<Set<string>> = [];
  let found: { key: string; path: string } | undefined;
  visit(text, {
    onObjectBegin: () => void open.push(new Set()),
    onObjectEnd: () => void open.pop(),
    onObjectProperty: (key, _offset, _length, _line, _column, path) => {
      const keys = open[open.length - 1]!;
      if (keys.has(key) && !found) found = { key, path: `/${path().join("/")}` };
      keys.add(key);
    },
  });
  return found;
}

/** The reason of the first error: ajv reports them in the order of the schema's fields. */
function classify(errors: ErrorObject[]): RejectionReason {
  const first = errors[0];
  if (!first) return "schema";
  if (first.keyword === "additionalProperties") return "unknown_field";
  if (first.instancePath === "/@timestamp") return "bad_timestamp";
  const esType = (first.parentSchema as Record<string, unknown> | undefined)?.[ES_TYPE];
  const integer = esType === "long" || esType === "integer";
  if (integer && (first.keyword === "maximum" || first.keyword === "minimum")) return "integer_out_of_range";
  return "schema";
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return "invalid";
  return errors
    .slice(0, 5)
    .map((e) => {
      const extra = e.keyword === "additionalProperties" ? ` "${String(e.params.additionalProperty)}"` : "";
      return `${e.instancePath || "/"} ${e.message ?? "is invalid"}${extra}`;
    })
    .join("; ");
}
