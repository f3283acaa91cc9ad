import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { TSchema } from "@sinclair/typebox";
import {
  MAX_CLOCK_SKEW_MS,
  MAX_MESSAGE_AGE_MS,
  MAX_PAYLOAD_BYTES,
  METRIC_FIELDS,
  METRIC_NAMES,
  METRIC_SCHEMAS,
  REJECTION_REASONS,
  StatusMessage,
  decodeMessage,
  entityKeyOf,
  sampleMessages,
  type RejectionReason,
  sampleTopic,
  schemaProblems,
  CPU_STATES,
  statusTopic,
  TOPIC_ROOT,
} from "@cluster-telemetry/contract";

const base = {
  "@timestamp": "2026-11-25T01:00:00.000Z",
  host: { name: "node-1", architecture: "aarch64" },
  agent: { type: "telemetry-agent", version: "0.1.0" },
};
const load = {
  ...base,
  event: { module: "telemetry", dataset: "telemetry.load" },
  metricset: { name: "load", period: 10_000 },
  system: { load: { "1": 0.5, "5": 0.4, "15": 0.3, cores: 4, norm: { "1": 0.125, "5": 0.1, "15": 0.075 } } },
};
const temperature = {
  ...base,
  event: { module: "telemetry", dataset: "telemetry.temperature" },
  metricset: { name: "temperature", period: 10_000 },
  system: { temperature: { celsius: 48.3, max: { celsius: 48.3 }, sensor: "thermal_zone0" } },
};
const memory = {
  total: 8e9,
  free: 1e9,
  used: { bytes: 7e9, pct: 0.875 },
  actual: { free: 6e9, used: { bytes: 2e9, pct: 0.25 } },
  swap: { total: 0, free: 0, used: { bytes: 0 } },
};
const status = {
  ...base,
  event: { module: "telemetry", dataset: "telemetry.status" },
  telemetry: {
    status: "online",
    interval: { ms: 10_000 },
    sensors: { temperature: "none" },
    buffer: { dropped: 0 },
  },
};

// The receiver's clock in these cases: the samples were taken a second before.
const now = Date.parse(base["@timestamp"]) + 1000;
const decode = (topic: string, payload: string | Uint8Array) => decodeMessage(topic, payload, { now });
const withLoad = (fields: Record<string, unknown>) => ({
  ...load,
  system: { load: { ...load.system.load, ...fields } },
});
const at = (timestamp: string) => JSON.stringify({ ...load, "@timestamp": timestamp });
const disk = (mount_point: string) => ({
  mount_point,
  device_name: "/dev/sda1",
  type: "ext4",
  total: 4096e6,
  free: 2048e6,
  available: 1024e6,
  used: { bytes: 2048e6, pct: 0.6667 },
  files: 1e6,
  free_files: 5e5,
});
const filesystems = (...mountPoints: string[]) =>
  JSON.stringify({
    ...base,
    event: { module: "telemetry", dataset: "telemetry.filesystem" },
    metricset: { name: "filesystem", period: 10_000 },
    system: { filesystem: mountPoints.map(disk) },
  });

describe("decodeMessage", () => {
  it("accepts a well-formed sample and names its host and metric", () => {
    const decoded = decode(sampleTopic("node-1", "load"), JSON.stringify(load));
    assert.equal(decoded.ok, true);
    assert.equal(decoded.host, "node-1");
    assert.equal(decoded.kind, "load");
  });

  it("accepts a status message on the status topic", () => {
    const decoded = decode(statusTopic("node-1"), Buffer.from(JSON.stringify(status)));
    assert.equal(decoded.ok, true);
    assert.equal(decoded.kind, "status");
  });

  it("keeps a compact payload's text as it came, and gives a pretty-printed one back on one line", () => {
    const compact = JSON.stringify(load);
    const asSent = decode(sampleTopic("node-1", "load"), compact);
    assert.equal(asSent.ok && asSent.text, compact);
    for (const pretty of [
      JSON.stringify(load, null, 2),
      JSON.stringify(load, null, "\t").replaceAll("\n", "\r\n"),
    ]) {
      const decoded = decode(sampleTopic("node-1", "load"), pretty);
      assert.equal(decoded.ok, true);
      assert.equal(decoded.ok && decoded.text, compact, "no line break can reach the NDJSON body");
    }
  });

  it("accepts a sample taken up to the allowed skew ahead and up to the allowed age behind", () => {
    assert.equal(
      decode(sampleTopic("node-1", "load"), at(new Date(now + MAX_CLOCK_SKEW_MS).toISOString())).ok,
      true,
    );
    assert.equal(
      decode(sampleTopic("node-1", "load"), at(new Date(now - MAX_MESSAGE_AGE_MS).toISOString())).ok,
      true,
    );
  });

  it("accepts a per-entity sample whose entities have distinct keys", () => {
    const decoded = decode(sampleTopic("node-1", "filesystem"), filesystems("/", "/boot/firmware"));
    assert.equal(decoded.ok ? decoded.kind : decoded.reason, "filesystem");
  });

  const rejects: Array<[string, string, string | Uint8Array, RejectionReason, RegExp]> = [
    [
      "a per-entity sample with two entities under one key (they would be one document)",
      sampleTopic("node-1", "filesystem"),
      filesystems("/", "/data", "/"),
      "duplicate_entity",
      /mount_point "\/" appears twice in system.filesystem/,
    ],
    ["a payload that is not JSON", sampleTopic("node-1", "load"), "{oops", "not_json", /JSON/],
    ["an unknown metric", sampleTopic("node-1", "disk"), JSON.stringify(load), "unknown_metric", /"disk"/],
    [
      "a payload whose host differs from the topic's",
      sampleTopic("node-2", "load"),
      JSON.stringify(load),
      "spoofed",
      /payload host "node-1" differs from topic host "node-2"/,
    ],
    [
      "a duplicate host key, whose last value would otherwise pass the spoof check",
      sampleTopic("node-1", "load"),
      JSON.stringify(load).replace('"host":{', '"host":{"name":"node-2"},"host":{'),
      "duplicate_key",
      /key "host" appears twice in \//,
    ],
    [
      "a duplicate key in a nested object",
      sampleTopic("node-1", "load"),
      JSON.stringify(load).replace('"cores":4', '"cores":4,"cores":4'),
      "duplicate_key",
      /key "cores" appears twice in \/system\/load/,
    ],
    [
      "a wrong type",
      sampleTopic("node-1", "load"),
      JSON.stringify(withLoad({ "1": "high" })),
      "schema",
      /\/system\/load\/1 must be number/,
    ],
    [
      "an out-of-range count",
      sampleTopic("node-1", "load"),
      JSON.stringify(withLoad({ cores: 0 })),
      "integer_out_of_range",
      /\/system\/load\/cores must be >= 1/,
    ],
    [
      "a 0 °C reading, which is what a missing sensor reports",
      sampleTopic("node-1", "temperature"),
      JSON.stringify({
        ...temperature,
        system: { temperature: { ...temperature.system.temperature, celsius: 0 } },
      }),
      "schema",
      /\/system\/temperature\/celsius must NOT be valid/,
    ],
    [
      "a timestamp without milliseconds",
      sampleTopic("node-1", "load"),
      at("2026-11-25T01:00:00Z"),
      "bad_timestamp",
      /\/@timestamp must match/,
    ],
    [
      "month 13",
      sampleTopic("node-1", "load"),
      at("2026-13-01T01:00:00.000Z"),
      "bad_timestamp",
      /format "date-time"/,
    ],
    [
      "30 February",
      sampleTopic("node-1", "load"),
      at("2026-02-30T01:00:00.000Z"),
      "bad_timestamp",
      /format "date-time"/,
    ],
    [
      "hour 24",
      sampleTopic("node-1", "load"),
      at("2026-11-25T24:00:00.000Z"),
      "bad_timestamp",
      /format "date-time"/,
    ],
    [
      "a sample from 2099",
      sampleTopic("node-1", "load"),
      at("2099-01-01T00:00:00.000Z"),
      "timestamp_in_future",
      /min ahead/,
    ],
    [
      "a sample just past the clock skew allowed",
      sampleTopic("node-1", "load"),
      at(new Date(now + MAX_CLOCK_SKEW_MS + 1000).toISOString()),
      "timestamp_in_future",
      /min ahead/,
    ],
    [
      "a sample older than any offline buffer replays",
      sampleTopic("node-1", "load"),
      at(new Date(now - MAX_MESSAGE_AGE_MS - 1000).toISOString()),
      "timestamp_too_old",
      /h old/,
    ],
    [
      "a sample from 1970",
      sampleTopic("node-1", "load"),
      at("1970-01-01T00:00:00.000Z"),
      "timestamp_too_old",
      /h old/,
    ],
    [
      "a status dated 2099, which would outrank a real offline",
      statusTopic("node-1"),
      JSON.stringify({ ...status, "@timestamp": "2099-01-01T00:00:00.000Z" }),
      "timestamp_in_future",
      /min ahead/,
    ],
    [
      "an integer past Elasticsearch's long",
      sampleTopic("node-1", "memory"),
      JSON.stringify({
        ...base,
        event: { module: "telemetry", dataset: "telemetry.memory" },
        metricset: { name: "memory", period: 10_000 },
        system: { memory: { ...memory, total: 9223372036854775808 } },
      }),
      "integer_out_of_range",
      /\/system\/memory\/total must be <= 9007199254740991/,
    ],
    [
      "a negative byte count",
      sampleTopic("node-1", "memory"),
      JSON.stringify({
        ...base,
        event: { module: "telemetry", dataset: "telemetry.memory" },
        metricset: { name: "memory", period: 10_000 },
        system: { memory: { ...memory, total: -1 } },
      }),
      "integer_out_of_range",
      /must be >= 0/,
    ],
    [
      "a buffer drop count past the exact integers",
      statusTopic("node-1"),
      JSON.stringify({ ...status, telemetry: { ...status.telemetry, buffer: { dropped: 2 ** 60 } } }),
      "integer_out_of_range",
      /\/telemetry\/buffer\/dropped/,
    ],
    [
      "an unknown top-level field",
      sampleTopic("node-1", "load"),
      JSON.stringify({ ...load, extra: 1 }),
      "unknown_field",
      /additional properties "extra"/,
    ],
    [
      "an unknown field under a core",
      sampleTopic("node-1", "core"),
      JSON.stringify({
        ...base,
        event: { module: "telemetry", dataset: "telemetry.core" },
        metricset: { name: "core", period: 10_000 },
        system: {
          core: [
            {
              id: 0,
              ...Object.fromEntries(CPU_STATES.map((state) => [state, { pct: 0.1 }])),
              total: { pct: 0.9 },
              extra: 1,
            },
          ],
        },
      }),
      "unknown_field",
      /\/system\/core\/0/,
    ],
    [
      "a status sensor key that is not a metric",
      statusTopic("node-1"),
      JSON.stringify({ ...status, telemetry: { ...status.telemetry, sensors: { gpu0: "nvml" } } }),
      "unknown_field",
      /\/telemetry\/sensors must NOT have additional properties "gpu0"/,
    ],
    [
      "an oversized payload",
      sampleTopic("node-1", "load"),
      "x".repeat(MAX_PAYLOAD_BYTES + 1),
      "oversized",
      new RegExp(`${MAX_PAYLOAD_BYTES + 1} bytes, the limit is ${MAX_PAYLOAD_BYTES}`),
    ],
    [
      "a topic outside the tree",
      "other/node-1/load",
      JSON.stringify(load),
      "bad_topic",
      /topic "other\/node-1\/load" is outside/,
    ],
    [
      "a topic with an extra level",
      `${TOPIC_ROOT}/node-1/load/x`,
      JSON.stringify(load),
      "bad_topic",
      /is not telemetry\/v2\/<host>\/<metric>/,
    ],
  ];
  for (const [what, topic, payload, code, detail] of rejects) {
    it(`rejects ${what} as ${code}`, () => {
      const decoded = decode(topic, payload);
      assert.equal(decoded.ok, false);
      assert.equal(decoded.ok ? undefined : decoded.code, code);
      assert.ok(decoded.ok || decoded.reason.startsWith(`${code}: `), "the reason starts with its code");
      assert.match(decoded.ok ? "" : decoded.reason, detail);
    });
  }

  it("refuses a sample published retained, and takes a retained status", () => {
    const sample = decodeMessage(sampleTopic("node-1", "load"), JSON.stringify(load), {
      now,
      retained: true,
    });
    assert.equal(sample.ok ? "accepted" : sample.code, "retained_sample");
    assert.equal(
      decodeMessage(statusTopic("node-1"), JSON.stringify(status), { now, retained: true }).ok,
      true,
    );
  });

  it("gives every reason a description, and uses no other", () => {
    const used = new Set(rejects.map(([, , , code]) => code));
    for (const code of used) assert.ok(Object.hasOwn(REJECTION_REASONS, code));
  });
});

describe("the contract's schemas", () => {
  it("close every object: no unknown field is accepted anywhere", () => {
    const open: string[] = [];
    const walk = (schema: TSchema, path: string): void => {
      if (schema.type === "object") {
        if (schema.additionalProperties !== false) open.push(path || "/");
        for (const [key, child] of Object.entries((schema.properties ?? {}) as Record<string, TSchema>))
          walk(child, `${path}/${key}`);
      }
      if (schema.type === "array") walk(schema.items as TSchema, `${path}/[]`);
    };
    for (const [kind, schema] of [...Object.entries(METRIC_SCHEMAS), ["status", StatusMessage] as const])
      walk(schema, kind);
    assert.deepEqual(open, []);
  });
});

/**
 * The longest JSON a schema allows: strings at their maxLength, integers at their longest bound,
 * floats as long as a double prints, lists at maxItems, optional fields present.
 */
function largest(schema: TSchema): unknown {
  switch (schema.type) {
    case "object":
      return Object.fromEntries(
        Object.entries((schema.properties ?? {}) as Record<string, TSchema>).map(([k, v]) => [k, largest(v)]),
      );
    case "array":
      return Array.from({ length: schema.maxItems as number }, () => largest(schema.items as TSchema));
    case "string":
      return "x".repeat(schema.maxLength as number);
    case "integer":
      return schema.maximum as number;
    case "number": {
      const long = 1.2345678901234568e-300;
      return long >= ((schema.minimum as number | undefined) ?? -Infinity) ? long : schema.maximum;
    }
    default:
      return schema.const ?? true;
  }
}

describe("the per-entity metrics", () => {
  it("split a sample with every entity at its largest into messages that each fit the payload limit and together hold every entity once", () => {
    const entityMetrics = METRIC_NAMES.filter((m) => entityKeyOf(m) !== undefined);
    assert.ok(entityMetrics.length >= 2);
    const origin = {
      host: { name: "h".repeat(253), architecture: "x".repeat(64) },
      agent: { type: "x".repeat(64), version: "x".repeat(64) },
      periodMs: 3_600_000,
    };
    const at = Date.now();
    for (const metric of entityMetrics) {
      const key = entityKeyOf(metric)!;
      const fields = largest(METRIC_FIELDS[metric] as unknown as TSchema) as Array<Record<string, unknown>>;
      // Distinct keys at their longest, as a collector could report them.
      fields.forEach((entity, i) => {
        const value = entity[key];
        const suffix = String(i);
        entity[key] = typeof value === "number" ? i : `${String(value).slice(0, -suffix.length)}${suffix}`;
      });
      const messages = sampleMessages(metric, origin, fields as never, at);
      const keys: unknown[] = [];
      for (const message of messages) {
        assert.ok(
          message.payload.byteLength <= MAX_PAYLOAD_BYTES,
          `${metric}: ${message.payload.byteLength} bytes, the limit is ${MAX_PAYLOAD_BYTES}`,
        );
        const decoded = decodeMessage(message.topic, message.payload, { now: at });
        assert.ok(decoded.ok, `${metric}: ${decoded.ok ? "" : decoded.reason}`);
        const system = (
          decoded.message as unknown as { system: Record<string, Array<Record<string, unknown>>> }
        ).system;
        keys.push(...system[metric]!.map((e) => e[key]));
      }
      assert.deepEqual(
        keys,
        fields.map((e) => e[key]),
        `${metric}: every entity once, in order`,
      );
    }
  });

  it("keep a sample that fits in one message", () => {
    const origin = {
      host: { name: "small" },
      agent: { type: "telemetry-agent", version: "test" },
      periodMs: 10_000,
    };
    const cores = [0, 1, 2, 3].map((id) => ({ ...(largest(coreItem()) as object), id }));
    assert.equal(sampleMessages("core", origin, cores as never).length, 1);
  });
});

function coreItem(): TSchema {
  return (METRIC_FIELDS.core as unknown as { items: TSchema }).items;
}

describe("schemaProblems", () => {
  it("knows a schema for every metric and for status", () => {
    for (const metric of METRIC_NAMES) assert.notEqual(schemaProblems(metric, {}), undefined);
    assert.equal(schemaProblems("status", status), undefined);
  });
});
