import { readFileSync } from "node:fs";

/** What every program configures of its MQTT connection: the client id, credentials and TLS files. */
export interface MqttConnectionSettings {
  clientId: string;
  /** 4 (3.1.1) or 5. */
  protocolVersion: 4 | 5;
  username: string | undefined;
  password: string | undefined;
  /** PEM paths; read here, once per client, so a renewed certificate is taken at the next start. */
  caFile: string | undefined;
  certFile: string | undefined;
  keyFile: string | undefined;
}

/** The part of mqtt.js's IClientOptions built from the settings; each program adds its session policy. */
export interface MqttClientOptions {
  clientId: string;
  protocolVersion: 4 | 5;
  username?: string;
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: true;
  log: () => void;
}

/**
 * The client options the agent's publisher, the ingest's intake and telemetry-live's subscriber
 * share: a plain object, so the contract needs no mqtt.js of its own. The files were checked
 * readable at start by the config; a read failing here is a real error and is thrown.
 */
export function mqttClientOptions(settings: MqttConnectionSettings): MqttClientOptions {
  return {
    clientId: settings.clientId,
    protocolVersion: settings.protocolVersion,
    ...(settings.username === undefined ? {} : { username: settings.username }),
    ...(settings.password === undefined ? {} : { password: settings.password }),
    ...(settings.caFile ? { ca: readFileSync(settings.caFile) } : {}),
    ...(settings.certFile ? { cert: readFileSync(settings.certFile) } : {}),
    ...(settings.keyFile ? { key: readFileSync(settings.keyFile) } : {}),
    rejectUnauthorized: true,
    // mqtt.js traces every packet through the debug module, whose "is this enabled?" check alone
    // took about 4% of the ingest's CPU under load; our own logs say what matters.
    log: () => undefined,
  };
}
