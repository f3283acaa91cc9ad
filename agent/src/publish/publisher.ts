import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { Logger } from "pino";
import { MAX_PAYLOAD_BYTES, statusTopic, type StatusMessage } from "@cluster-telemetry/contract";
import { mqttClientOptions, readSecretFile } from "@cluster-telemetry/contract/config";
import type { AgentConfig } from "../config/agent-config.ts";
import { reconnectDelay } from "./backoff.ts";
import { OfflineBuffer, type MessageBuffer, type PendingMessage } from "./offline-buffer.ts";

/** How many QoS 1 publishes may await their PUBACK at once; the rest wait in the OfflineBuffer. */
const IN_FLIGHT = 64;

export interface PublisherCounters {
  published: number;
  /** Elasticsearch documents the published messages make (one per entity of a per-entity sample). */
  publishedDocuments: number;
  refused: number;
  oversized: number;
}

/**
 * Owns the MQTT connection: QoS 1 publishes from a bounded buffer, a retained status with a Last
 * Will, reconnects with capped exponential backoff, and a token re-read at every reconnect.
 */
export class Publisher {
  readonly buffer: MessageBuffer;
  readonly counters: PublisherCounters = { published: 0, publishedDocuments: 0, refused: 0, oversized: 0 };
  private client: MqttClient | undefined;
  private draining = false;
  private failures = 0;
  private closing = false;

  constructor(
    private readonly config: AgentConfig,
    /** The connection's own host status and Last Will; none for a connection shared by many hosts. */
    private readonly status: ((state: "online" | "offline") => StatusMessage) | undefined,
    private readonly log: Logger,
    /** Where waiting samples are kept; an in-memory OfflineBuffer by default. */
    buffer?: MessageBuffer,
  ) {
    this.buffer =
      buffer ??
      new OfflineBuffer({
        maxMessages: config.bufferMaxMessages,
        maxBytes: config.bufferMaxBytes,
      });
  }

  start(): void {
    const { config } = this;
    const options: IClientOptions = {
      ...mqttClientOptions({
        clientId: config.clientId,
        protocolVersion: config.mqttVersion,
        username: config.username,
        password: this.password(),
        caFile: config.caFile,
        certFile: config.certFile,
        keyFile: config.keyFile,
      }),
      clean: true,
      keepalive: 30,
      connectTimeout: 10_000,
      reconnectPeriod: reconnectDelay(0),
      // Never let mqtt.js queue while offline: its store is unbounded; ours is not.
      queueQoSZero: false,
      ...(this.status
        ? {
            will: {
              topic: statusTopic(config.host),
              payload: Buffer.from(JSON.stringify(this.status("offline"))),
              qos: 1 as const,
              retain: true,
            },
          }
        : {}),
    };
    const client = mqtt.connect(config.broker, options);
    this.client = client;
    client.on("connect", () => {
      this.failures = 0;
      client.options.reconnectPeriod = reconnectDelay(0);
      this.log.info(
        { event: "broker_connected", broker: redactUrl(config.broker) },
        "connected to the broker",
      );
      this.publishStatus("online").catch((error: Error) =>
        this.log.warn(
          { event: "status_publish_failed", state: "online", err: error.message },
          "could not publish the online status; the next connection publishes it again",
        ),
      );
      void this.drain();
    });
    client.on("close", () => {
      if (this.closing) return;
      // The next connection's Last Will is stamped anew: a Will reused from an earlier connection
      // would be, to a subscriber, the same message as the first crash's (same host and time).
      if (this.status && client.options.will)
        client.options.will.payload = Buffer.from(JSON.stringify(this.status("offline")));
      this.failures += 1;
      client.options.reconnectPeriod = reconnectDelay(this.failures);
      // A token may have been renewed while we were connected: send the current one next time.
      if (config.tokenFile) client.options.password = this.password();
    });
    client.on("offline", () =>
      this.log.warn({ event: "broker_offline", buffered: this.buffer.size }, "broker unreachable; buffering"),
    );
    client.on("error", (error) =>
      this.log.error({ event: "broker_error", err: error.message }, "MQTT error"),
    );
  }

  private password(): string | undefined {
    if (this.config.tokenFile) {
      const reading = readSecretFile(this.config.tokenFile);
      if ("text" in reading) return reading.text;
      this.log.error({ event: "token_unreadable", err: reading.problem }, "cannot read the token file");
    }
    return this.config.password;
  }

  /** Queues one sample; it goes out now if connected, else when the broker is back. */
  enqueue(message: PendingMessage): void {
    // mqtt.js does not check outgoing packets against the broker's limit, and would resend an
    // oversized one after every reconnect; the contract's cap stops it here.
    if (message.payload.byteLength > MAX_PAYLOAD_BYTES) {
      this.counters.oversized += 1;
      this.log.error(
        { event: "sample_oversized", topic: message.topic, bytes: message.payload.byteLength },
        "sample over the payload cap; not sent",
      );
      return;
    }
    this.buffer.push(message);
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.client?.connected && this.buffer.size > 0) {
        const batch = this.buffer.take(IN_FLIGHT);
        const results = await Promise.allSettled(
          batch.map((m) =>
            this.client!.publishAsync(m.topic, m.payload, { qos: 1, retain: m.retain ?? false }),
          ),
        );
        const retry: PendingMessage[] = [];
        results.forEach((result, i) => {
          if (result.status === "fulfilled") {
            this.counters.published += 1;
            this.counters.publishedDocuments += batch[i]!.documents ?? 1;
            return;
          }
          const reasonCode = (result.reason as { code?: number }).code;
          if (typeof reasonCode === "number" && reasonCode >= 0x80) {
            // MQTT 5 tells us the broker refused it (0x87: not authorized); resending cannot help.
            this.counters.refused += 1;
            this.log.error(
              {
                event: "publish_refused",
                topic: batch[i]!.topic,
                reasonCode,
                reason: (result.reason as Error).message,
              },
              "the broker refused a publish",
            );
            return;
          }
          retry.push(batch[i]!);
        });
        this.buffer.putBack(retry);
        if (retry.length > 0) break;
      }
    } finally {
      this.draining = false;
    }
  }

  async publishStatus(state: "online" | "offline"): Promise<void> {
    const client = this.client;
    if (!client?.connected || !this.status) return;
    await client.publishAsync(statusTopic(this.config.host), JSON.stringify(this.status(state)), {
      qos: 1,
      retain: true,
    });
  }

  /** Sends what is buffered (up to `timeoutMs`), publishes "offline", and disconnects cleanly. */
  async stop(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.client?.connected && this.buffer.size > 0 && Date.now() < deadline) {
      await this.drain();
      await new Promise((r) => setTimeout(r, 50));
    }
    this.closing = true;
    // The broker publishes the Last Will ("offline") when this does not get through.
    await this.publishStatus("offline").catch((error: Error) =>
      this.log.warn(
        { event: "status_publish_failed", state: "offline", err: error.message },
        "could not publish the offline status; the broker's Last Will says it instead",
      ),
    );
    await this.client
      ?.endAsync()
      .catch((error: Error) =>
        this.log.warn(
          { event: "broker_disconnect_failed", err: error.message },
          "could not disconnect cleanly",
        ),
      );
  }
}

/** The broker URL without credentials, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "redacted";
    return u.toString();
  } catch {
    return "(unparseable url)";
  }
}
