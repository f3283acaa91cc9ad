/**
 * The MQTT topic tree, version 2.
 *
 *   telemetry/v2/<host>/<metric>   one sample of one metric (QoS 1, never retained)
 *   telemetry/v2/<host>/status     the host's agent status (QoS 1, retained; the Last Will sets "offline")
 *
 * <host> is one topic level: it may not be empty nor contain "/", "+", "#" or a NUL, and is at most
 * HOST_NAME_MAX_LENGTH characters. Subscribers use SUBSCRIPTION to receive everything.
 *
 * Version 2 added `event.module`, `metricset` and `host.id` to every message and changed the cpu and
 * memory fields. Version 1 (telemetry/v1/...) is still subscribed to by the ingest for one release,
 * so that agents not yet upgraded are told apart from broken ones: their messages become dead
 * letters with reason `retired_version`, payload kept, rather than vanishing at the broker.
 */
export const TOPIC_ROOT = "telemetry/v2";
/** The previous version's root: refused with a reason by the ingest, never published. */
export const RETIRED_TOPIC_ROOT = "telemetry/v1";
/** The levels version 1 had under each host, for the broker's ACL of the transition release. */
export const RETIRED_LEVELS = ["cpu", "load", "temperature", "memory", "status"] as const;
export const STATUS_LEVEL = "status" as const;
/** One filter for samples and status messages of every host. */
export const SUBSCRIPTION = `${TOPIC_ROOT}/+/+`;
/** The retired version's filter: the ingest subscribes to it so that old agents' messages are dead-lettered. */
export const RETIRED_SUBSCRIPTION = `${RETIRED_TOPIC_ROOT}/+/+`;
export const HOST_NAME_MAX_LENGTH = 253;

const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Why a host name cannot be a topic level, or undefined when it can. */
export function hostNameProblem(host: string): string | undefined {
  if (host.length === 0) return "host name is empty";
  if (host.length > HOST_NAME_MAX_LENGTH)
    return `host name is longer than ${HOST_NAME_MAX_LENGTH} characters`;
  if (/[/+#]/.test(host) || host.includes("\0"))
    return `host name "${host}" contains "/", "+", "#" or NUL, which MQTT topic levels forbid`;
  if (!HOST_NAME.test(host)) {
    return `host name "${host}" must start with a letter or digit and hold only letters, digits, ".", "_" and "-"`;
  }
  return undefined;
}

export function sampleTopic(host: string, metric: string): string {
  return `${TOPIC_ROOT}/${host}/${metric}`;
}

export function statusTopic(host: string): string {
  return `${TOPIC_ROOT}/${host}/${STATUS_LEVEL}`;
}

export type ParsedTopic =
  | { ok: true; host: string; kind: string }
  | { ok: false; reason: string; retired?: { host: string; kind: string } };

/** Splits `telemetry/v2/<host>/<kind>`; `kind` is a metric name or "status". */
export function parseTopic(topic: string): ParsedTopic {
  const prefix = `${TOPIC_ROOT}/`;
  if (topic.startsWith(`${RETIRED_TOPIC_ROOT}/`)) {
    const [host, kind] = topic.slice(RETIRED_TOPIC_ROOT.length + 1).split("/");
    const named = host && kind && !hostNameProblem(host) ? { retired: { host, kind } } : {};
    return {
      ok: false,
      reason: `topic "${topic}" is contract version 1, which is no longer read: upgrade the agent on host "${host ?? ""}" (version 2 publishes under ${TOPIC_ROOT}/)`,
      ...named,
    };
  }
  if (!topic.startsWith(prefix)) return { ok: false, reason: `topic "${topic}" is outside ${TOPIC_ROOT}/` };
  const levels = topic.slice(prefix.length).split("/");
  if (levels.length !== 2)
    return { ok: false, reason: `topic "${topic}" is not ${TOPIC_ROOT}/<host>/<metric>` };
  const [host, kind] = levels as [string, string];
  const problem = hostNameProblem(host);
  if (problem) return { ok: false, reason: problem };
  return { ok: true, host, kind };
}
