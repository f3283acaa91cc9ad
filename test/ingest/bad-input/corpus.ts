import {
  RETIRED_TOPIC_ROOT,
  sampleTopic,
  TOPIC_ROOT,
  type RejectionReason,
} from "@cluster-telemetry/contract";

/**
 * What careless and hostile publishers send: every case is one MQTT message on a topic of its own
 * (its host level carries `id`, except where the topic's shape is the point) and the reason the
 * ingest must give it. `count` > 1 repeats the kind with distinct topics or payloads.
 */
export interface BadInput {
  name: string;
  code: RejectionReason;
  /** The messages of this case: topic and payload. */
  messages: (id: string, now: number) => Array<{ topic: string; payload: string | Buffer; retain?: boolean }>;
}

/** Messages a careless but correct client sends: each must be indexed once, as any sample. */
export interface OddButValid {
  name: string;
  metric: "load" | "cpu" | "memory" | "status";
  payload: (host: string, now: number) => string;
  publish?: { qos?: 0 | 1 | 2; protocolVersion?: 4 | 5 };
}

const iso = (ms: number) => new Date(ms).toISOString();

export function loadMessage(host: string, now: number): Record<string, unknown> {
  return {
    "@timestamp": iso(now),
    host: { name: host, architecture: "x64" },
    agent: { type: "telemetry-agent", version: "0.1.0" },
    event: { module: "telemetry", dataset: "telemetry.load" },
    metricset: { name: "load", period: 10_000 },
    system: {
      load: { "1": 0.5, "5": 0.4, "15": 0.3, cores: 4, norm: { "1": 0.125, "5": 0.1, "15": 0.075 } },
    },
  };
}

export function cpuMessage(host: string, now: number): Record<string, unknown> {
  const share = (pct: number) => ({ pct: pct * 2, norm: { pct } });
  return {
    "@timestamp": iso(now),
    host: { name: host, cpu: { usage: 0.2 } },
    agent: { type: "telemetry-agent", version: "0.1.0" },
    event: { module: "telemetry", dataset: "telemetry.cpu" },
    metricset: { name: "cpu", period: 10_000 },
    system: {
      cpu: {
        cores: 2,
        total: share(0.2),
        user: share(0.12),
        system: share(0.05),
        nice: share(0.01),
        irq: share(0),
        softirq: share(0.02),
        steal: share(0),
        iowait: share(0),
        idle: share(0.8),
      },
    },
  };
}

export function coreMessage(host: string, now: number): Record<string, unknown> {
  const core = (id: number, busy: number) => ({
    id,
    total: { pct: busy },
    user: { pct: busy },
    system: { pct: 0 },
    nice: { pct: 0 },
    irq: { pct: 0 },
    softirq: { pct: 0 },
    steal: { pct: 0 },
    iowait: { pct: 0 },
    idle: { pct: 1 - busy },
  });
  return {
    "@timestamp": iso(now),
    host: { name: host },
    agent: { type: "telemetry-agent", version: "0.1.0" },
    event: { module: "telemetry", dataset: "telemetry.core" },
    metricset: { name: "core", period: 10_000 },
    system: { core: [core(0, 0.1), core(1, 0.3)] },
  };
}

export function memoryMessage(host: string, now: number): Record<string, unknown> {
  return {
    "@timestamp": iso(now),
    host: { name: host },
    agent: { type: "telemetry-agent", version: "0.1.0" },
    event: { module: "telemetry", dataset: "telemetry.memory" },
    metricset: { name: "memory", period: 10_000 },
    system: {
      memory: {
        total: 8e9,
        free: 1e9,
        used: { bytes: 7e9, pct: 0.875 },
        actual: { free: 6e9, used: { bytes: 2e9, pct: 0.25 } },
        swap: { total: 2e9, free: 1.5e9, used: { bytes: 5e8, pct: 0.25 } },
      },
    },
  };
}

export function temperatureMessage(host: string, now: number): Record<string, unknown> {
  return {
    "@timestamp": iso(now),
    host: { name: host },
    agent: { type: "telemetry-agent", version: "0.1.0" },
    event: { module: "telemetry", dataset: "telemetry.temperature" },
    metricset: { name: "temperature", period: 10_000 },
    system: { temperature: { celsius: 51.5, max: { celsius: 55 }, sensor: "coretemp" } },
  };
}

export function statusMessage(host: string, now: number): Record<string, unknown> {
  return {
    "@timestamp": iso(now),
    host: { name: host },
    agent: { type: "telemetry-agent", version: "0.1.0" },
    event: { module: "telemetry", dataset: "telemetry.status" },
    telemetry: {
      status: "online",
      interval: { ms: 10_000 },
      sensors: { cpu: "procfs", temperature: "none" },
      buffer: { dropped: 0 },
    },
  };
}

const BUILDERS = {
  load: loadMessage,
  cpu: cpuMessage,
  core: coreMessage,
  memory: memoryMessage,
  temperature: temperatureMessage,
  status: statusMessage,
};
type Kind = keyof typeof BUILDERS;

/** A valid message of its kind, changed by `change`, on the host's own topic. */
function changed(
  name: string,
  code: RejectionReason,
  kind: Kind,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each case reaches into its own shape
  change: (message: Record<string, any>, now: number) => void,
): BadInput {
  return {
    name,
    code,
    messages: (id, now) => {
      const message = BUILDERS[kind](id, now);
      change(message, now);
      return [{ topic: sampleTopic(id, kind), payload: JSON.stringify(message) }];
    },
  };
}

/** A payload's text, on the host's own topic of `metric`. */
function raw(
  name: string,
  code: RejectionReason,
  metric: string,
  text: (id: string, now: number) => string | Buffer,
): BadInput {
  return { name, code, messages: (id, now) => [{ topic: sampleTopic(id, metric), payload: text(id, now) }] };
}

/** A valid load payload on a topic made from the case's id. */
function onTopic(name: string, code: RejectionReason, topic: (id: string) => string): BadInput {
  return {
    name,
    code,
    messages: (id, now) => [{ topic: topic(id), payload: JSON.stringify(loadMessage(id, now)) }],
  };
}

const DAY = 24 * 3600_000;
/** The longest topic an MQTT string can hold (65,535 bytes) under telemetry/v2/<level>/load. */
const longestLevel = (id: string, rest: string) =>
  `${id}-${"x".repeat(65_535 - `${TOPIC_ROOT}/`.length - id.length - 1 - rest.length - 1)}`;

export const BAD_INPUTS: BadInput[] = [
  // Topics (the subscription <root>/+/+ lets through any two levels).
  onTopic("a host level with a space", "bad_topic", (id) => sampleTopic(`${id} x`, "load")),
  onTopic("a host level starting with a dot", "bad_topic", (id) => sampleTopic(`.${id}`, "load")),
  onTopic("a host level with a non-ASCII letter", "bad_topic", (id) => sampleTopic(`${id}-nöde`, "load")),
  onTopic("a host level with a dollar sign", "bad_topic", (id) => sampleTopic(`${id}$`, "load")),
  onTopic("a host level longer than a host name", "bad_topic", (id) =>
    sampleTopic(`${id}-${"a".repeat(260)}`, "load"),
  ),
  onTopic("the longest topic the broker accepts, in the host level", "bad_topic", (id) =>
    sampleTopic(longestLevel(id, "load"), "load"),
  ),
  onTopic("an empty host level", "bad_topic", () => sampleTopic("", "load")),
  // The retired version: an agent not upgraded yet, told apart from a broken one.
  onTopic(
    "a sample on the retired version 1's topic",
    "retired_version",
    (id) => `${RETIRED_TOPIC_ROOT}/${id}/load`,
  ),
  onTopic(
    "a version 1 topic with a bad host level",
    "bad_topic",
    (id) => `${RETIRED_TOPIC_ROOT}/${id} x/load`,
  ),
  // Metric levels.
  onTopic("an unknown metric", "unknown_metric", (id) => sampleTopic(id, "disk")),
  onTopic("a metric in capitals", "unknown_metric", (id) => sampleTopic(id, "CPU")),
  onTopic("an empty metric level", "unknown_metric", (id) => sampleTopic(id, "")),
  onTopic("the longest topic the broker accepts, in the metric level", "unknown_metric", (id) =>
    sampleTopic(id, "m".repeat(65_535 - `${TOPIC_ROOT}/`.length - id.length - 1)),
  ),
  {
    name: "2,000 distinct unknown metric names from one host",
    code: "unknown_metric",
    messages: (id, now) =>
      Array.from({ length: 2000 }, (_, i) => ({
        topic: sampleTopic(id, `metric${i}`),
        payload: JSON.stringify(loadMessage(id, now)),
      })),
  },
  // Size and encoding.
  raw(
    "a payload over 16 KiB",
    "oversized",
    "load",
    (id, now) => JSON.stringify(loadMessage(id, now)) + " ".repeat(16_384),
  ),
  raw("text that is not JSON", "not_json", "load", () => "{oops"),
  raw("an empty payload", "not_json", "load", () => ""),
  raw(
    "JSON behind a byte order mark",
    "not_json",
    "load",
    (id, now) => `\uFEFF${JSON.stringify(loadMessage(id, now))}`,
  ),
  raw("truncated JSON", "not_json", "load", (id, now) => JSON.stringify(loadMessage(id, now)).slice(0, 60)),
  raw("bytes that are not UTF-8", "not_json", "load", () => Buffer.from([0x7b, 0xff, 0xfe, 0x7d])),
  raw(
    "JSON with a comment",
    "not_json",
    "load",
    (id, now) => `// load\n${JSON.stringify(loadMessage(id, now))}`,
  ),
  raw("JSON with a trailing comma", "not_json", "load", (id, now) =>
    JSON.stringify(loadMessage(id, now)).replace(/}$/, ",}"),
  ),
  raw("NaN as a value", "not_json", "load", (id, now) =>
    JSON.stringify(loadMessage(id, now)).replace('"1":0.5', '"1":NaN'),
  ),
  raw("single-quoted strings", "not_json", "load", (id, now) =>
    JSON.stringify(loadMessage(id, now)).replaceAll('"', "'"),
  ),
  // Duplicate keys: JSON.parse keeps the last, which is not what Elasticsearch or a reader sees.
  raw("a duplicate host, the first another node's", "duplicate_key", "load", (id, now) =>
    JSON.stringify(loadMessage(id, now)).replace('"host":{', '"host":{"name":"node-other"},"host":{'),
  ),
  raw("a duplicate nested key", "duplicate_key", "load", (id, now) =>
    JSON.stringify(loadMessage(id, now)).replace('"cores":4', '"cores":4,"cores":4'),
  ),
  raw("a duplicate @timestamp", "duplicate_key", "load", (id, now) =>
    JSON.stringify(loadMessage(id, now)).replace(
      '{"@timestamp"',
      `{"@timestamp":"${iso(now - 1000)}","@timestamp"`,
    ),
  ),
  raw("a duplicate key in a pretty-printed payload", "duplicate_key", "status", (id, now) =>
    JSON.stringify(statusMessage(id, now), null, 2).replace(
      '"status": "online"',
      '"status": "offline",\n    "status": "online"',
    ),
  ),
  // Unknown fields, anywhere.
  changed("an unknown top-level field", "unknown_field", "load", (m) => (m.extra = 1)),
  changed("an unknown field under host", "unknown_field", "load", (m) => (m.host.ip = "10.0.0.1")),
  changed("an unknown field under event", "unknown_field", "load", (m) => (m.event.kind = "metric")),
  changed(
    "an unknown field under system.cpu.user",
    "unknown_field",
    "cpu",
    (m) => (m.system.cpu.user.ticks = 120),
  ),
  changed("an unknown field under a core", "unknown_field", "core", (m) => (m.system.core[1].temp = 40)),
  changed(
    "host.cpu.usage on a sample other than cpu",
    "unknown_field",
    "load",
    (m) => (m.host.cpu = { usage: 0.5 }),
  ),
  changed("a cpu sample without host.cpu.usage", "schema", "cpu", (m) => delete m.host.cpu),
  changed("an unknown metric under system", "unknown_field", "load", (m) => (m.system.cpu = {})),
  changed(
    "a status sensor key that is not a metric",
    "unknown_field",
    "status",
    (m) => (m.telemetry.sensors.gpu = "nvml"),
  ),
  changed("an unknown field under telemetry", "unknown_field", "status", (m) => (m.telemetry.uptime = 5)),
  {
    name: "1,100 statuses from one node, each with a sensor key of its own (the field limit is 1,000)",
    code: "unknown_field",
    messages: (id, now) =>
      Array.from({ length: 1100 }, (_, i) => {
        const m = statusMessage(id, now + i) as { telemetry: { sensors: Record<string, string> } };
        m.telemetry.sensors[`sensor_${i}`] = "x";
        return { topic: sampleTopic(id, "status"), payload: JSON.stringify(m) };
      }),
  },
  // Dates that do not exist, or are not in the contract's form.
  changed("month 13", "bad_timestamp", "load", (m) => (m["@timestamp"] = "2026-13-01T00:00:00.000Z")),
  changed("30 February", "bad_timestamp", "load", (m) => (m["@timestamp"] = "2026-02-30T00:00:00.000Z")),
  changed(
    "29 February of a common year",
    "bad_timestamp",
    "load",
    (m) => (m["@timestamp"] = "2026-02-29T00:00:00.000Z"),
  ),
  changed("hour 25", "bad_timestamp", "load", (m) => (m["@timestamp"] = "2026-11-30T25:00:00.000Z")),
  changed(
    "a timestamp without milliseconds",
    "bad_timestamp",
    "load",
    (m, now) => (m["@timestamp"] = iso(now).replace(/\.\d{3}Z$/, "Z")),
  ),
  changed(
    "a timestamp with an offset",
    "bad_timestamp",
    "load",
    (m, now) => (m["@timestamp"] = iso(now).replace("Z", "+00:00")),
  ),
  changed(
    "epoch milliseconds as the timestamp",
    "bad_timestamp",
    "load",
    (m, now) => (m["@timestamp"] = now),
  ),
  // Clocks that are wrong.
  changed(
    "a sample from 1970 (a Pi without its clock)",
    "timestamp_too_old",
    "load",
    (m) => (m["@timestamp"] = "1970-01-01T00:00:10.000Z"),
  ),
  changed(
    "a sample eight days old",
    "timestamp_too_old",
    "load",
    (m, now) => (m["@timestamp"] = iso(now - 8 * DAY)),
  ),
  changed(
    "a sample from 2099",
    "timestamp_in_future",
    "load",
    (m) => (m["@timestamp"] = "2099-01-01T00:00:00.000Z"),
  ),
  changed(
    "a status from 2099",
    "timestamp_in_future",
    "status",
    (m) => (m["@timestamp"] = "2099-01-01T00:00:00.000Z"),
  ),
  changed(
    "a sample ten minutes ahead",
    "timestamp_in_future",
    "load",
    (m, now) => (m["@timestamp"] = iso(now + 10 * 60_000)),
  ),
  // Integers Elasticsearch could not hold, or that are out of their range.
  changed(
    "a byte count past the long range",
    "integer_out_of_range",
    "memory",
    (m) => (m.system.memory.total = 2 ** 64),
  ),
  changed(
    "a byte count past the exact integers",
    "integer_out_of_range",
    "memory",
    (m) => (m.system.memory.actual.free = 2 ** 53 + 2),
  ),
  changed(
    "a negative byte count",
    "integer_out_of_range",
    "memory",
    (m) => (m.system.memory.used.bytes = -1),
  ),
  changed(
    "a buffer drop count past the long range",
    "integer_out_of_range",
    "status",
    (m) => (m.telemetry.buffer.dropped = 1e19),
  ),
  changed(
    "an interval under a second",
    "integer_out_of_range",
    "status",
    (m) => (m.telemetry.interval.ms = 500),
  ),
  changed("zero cores", "integer_out_of_range", "load", (m) => (m.system.load.cores = 0)),
  changed("a million cores", "integer_out_of_range", "cpu", (m) => (m.system.cpu.cores = 1_000_000)),
  // Other schema faults.
  changed("a load as a string", "schema", "load", (m) => (m.system.load["1"] = "0.5")),
  changed("a missing metric body", "schema", "load", (m) => delete m.system),
  changed("a missing timestamp", "schema", "load", (m) => delete m["@timestamp"]),
  changed(
    "0 °C, what a missing sensor reports",
    "schema",
    "temperature",
    (m) => (m.system.temperature.celsius = 0),
  ),
  changed(
    "-1 °C, what a broken sensor reports",
    "schema",
    "temperature",
    (m) => (m.system.temperature.celsius = -1),
  ),
  changed("a fraction of 1.5", "schema", "cpu", (m) => (m.system.cpu.total.norm.pct = 1.5)),
  raw("a load of 1e400 (Infinity once parsed)", "schema", "load", (id, now) =>
    JSON.stringify(loadMessage(id, now)).replace('"5":0.4', '"5":1e400'),
  ),
  changed("another metric's dataset", "schema", "load", (m) => (m.event.dataset = "telemetry.cpu")),
  changed(
    "a status that is neither online nor offline",
    "schema",
    "status",
    (m) => (m.telemetry.status = "rebooting"),
  ),
  changed("a core busier than the whole core", "schema", "core", (m) => (m.system.core[0].total.pct = 1.5)),
  changed("a core sample without cores", "schema", "core", (m) => (m.system.core = [])),
  changed(
    "two cores with one id",
    "duplicate_entity",
    "core",
    (m) => (m.system.core[1].id = m.system.core[0].id),
  ),
  changed(
    "an agent version of 2,000 characters",
    "schema",
    "load",
    (m) => (m.agent.version = "v".repeat(2000)),
  ),
  changed(
    "a host name with a space in the payload",
    "schema",
    "load",
    (m) => (m.host.name = `${m.host.name} x`),
  ),
  raw("null", "schema", "load", () => "null"),
  raw("an array", "schema", "load", () => "[]"),
  raw("a number", "schema", "load", () => "42"),
  // Publishing as someone else.
  changed("another node's name in the payload", "spoofed", "load", (m) => (m.host.name = "node-other")),
  changed(
    "the host name in other letter case",
    "spoofed",
    "load",
    (m) => (m.host.name = m.host.name.toUpperCase()),
  ),
  changed("another node's status", "spoofed", "status", (m) => (m.host.name = "node-other")),
  // A retained sample: Mosquitto's ACL cannot tell retained from not; the ingest can.
  {
    name: "a sample published retained",
    code: "retained_sample",
    messages: (id, now) => [
      { topic: sampleTopic(id, "load"), payload: JSON.stringify(loadMessage(id, now)), retain: true },
    ],
  },
];

/** A payload's text with a JSON number written as JSON.stringify never writes it. */
const reformatted = (message: Record<string, unknown>, from: string, to: string) =>
  JSON.stringify(message).replace(from, to);

export const ODD_BUT_VALID: OddButValid[] = [
  {
    name: "pretty-printed with two spaces",
    metric: "load",
    payload: (h, n) => JSON.stringify(loadMessage(h, n), null, 2),
  },
  {
    name: "pretty-printed with tabs and CRLF",
    metric: "cpu",
    payload: (h, n) => JSON.stringify(cpuMessage(h, n), null, "\t").replaceAll("\n", "\r\n"),
  },
  {
    name: "a pretty-printed status",
    metric: "status",
    payload: (h, n) => JSON.stringify(statusMessage(h, n), null, 4),
  },
  {
    name: "keys in another order",
    metric: "memory",
    payload: (h, n) => JSON.stringify(Object.fromEntries(Object.entries(memoryMessage(h, n)).reverse())),
  },
  {
    name: "a whole number written 2.0",
    metric: "load",
    payload: (h, n) => reformatted(loadMessage(h, n), '"cores":4', '"cores":4.0'),
  },
  {
    name: "an escaped letter in a string",
    metric: "load",
    payload: (h, n) => reformatted(loadMessage(h, n), '"version":"0.1.0"', '"version":"\\u0030.1.0"'),
  },
  {
    name: "published at QoS 0",
    metric: "load",
    payload: (h, n) => JSON.stringify(loadMessage(h, n)),
    publish: { qos: 0 },
  },
  {
    name: "published at QoS 2",
    metric: "load",
    payload: (h, n) => JSON.stringify(loadMessage(h, n)),
    publish: { qos: 2 },
  },
  {
    name: "published over MQTT 3.1.1",
    metric: "cpu",
    payload: (h, n) => JSON.stringify(cpuMessage(h, n)),
    publish: { protocolVersion: 4 },
  },
];
