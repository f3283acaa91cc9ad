import mqtt, { type IClientOptions, type MqttClient } from "mqtt";

/** Connects once, without retrying: a refusal must surface as an error, not as a reconnect loop. */
export async function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...options });
}

/** The broker's refusal, or "" when it let the client in (the client is closed again). */
export async function refusal(url: string, options: IClientOptions): Promise<string> {
  const client = await connect(url, options).catch((error: Error) => error);
  if (client instanceof Error) return client.message;
  await client.endAsync();
  return "";
}
