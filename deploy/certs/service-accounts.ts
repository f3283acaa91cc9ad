/**
 * Names the deployment keeps for its own broker accounts and client ids. A node's host name is its
 * MQTT user name and, on the node listeners, its client id; a node named like a service could log
 * in where the service does or take over the service's persistent session (the ingest's client ids
 * are telemetry-ingest-1, -2, …). deploy/setup/setup.sh refuses the same names in MQTT_NODE_USERS.
 */
export const SERVICE_ACCOUNTS = ["telemetry-ingest", "healthcheck"] as const;

/** Every service account and client id of the deployment starts with this, or is listed above. */
export const SERVICE_PREFIX = "telemetry-";

/** Why a node may not be called `name`, or undefined when it may. */
export function serviceNameProblem(name: string): string | undefined {
  const lower = name.toLowerCase();
  if ((SERVICE_ACCOUNTS as readonly string[]).includes(lower) || lower.startsWith(SERVICE_PREFIX))
    return `it is kept for the deployment's services (${SERVICE_ACCOUNTS.join(", ")}, ${SERVICE_PREFIX}*)`;
  return undefined;
}
