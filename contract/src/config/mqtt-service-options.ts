import { Type } from "@sinclair/typebox";

/**
 * The credentials and TLS files of a service's MQTT connection (the ingest's, telemetry-live's), as
 * option-table entries: declared once, so both programs name them, read them and document them
 * alike. The agent names its own (`--username`, `--ca-file`, …): a node's options stay short.
 */
export const MQTT_SERVICE_CREDENTIALS = {
  mqttPassword: { schema: Type.String(), description: "MQTT password", secret: true, env: "MQTT_PASSWORD" },
  mqttCaFile: {
    schema: Type.String(),
    description: "CA certificate for mqtts://",
    readable: true,
    env: "MQTT_CA_FILE",
  },
  mqttCertFile: {
    schema: Type.String(),
    description: "client certificate for mutual TLS",
    readable: true,
    env: "MQTT_CERT_FILE",
  },
  mqttKeyFile: {
    schema: Type.String(),
    description: "client key for mutual TLS",
    readable: true,
    env: "MQTT_KEY_FILE",
  },
};
