import { readFileSync } from "node:fs";
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from "mqtt";
import type { Logger } from "pino";
import { SUBSCRIPTION, decodeMessage } from "../../../agent/src/contract/index.ts";
import type { IngestConfig } from "../config/ingest-config.ts";
import { deadLetterDocument, sampleDocument, type IndexedDocument } from "../documents.ts";
import type { IngestMetrics } from "../ops/metrics.ts";

/** A week: the broker keeps an offline ingest's messages through a long outage. */
const SESSION_EXPIRY_SECONDS = 7 * 24 * 3600;

export interface IntakeDeps {
  /** Durably stores one document; resolves once it is in Redis. */
  store: (document: IndexedDocument) => Promise<void>;
  /** Resolves when the queue is below the high-water mark. */
  gate: () => Promise<void>;
  metrics: IngestMetrics;
  log: Logger;
}

/**
 * The MQTT side. mqtt.js handles incoming packets one at a time per connection and sends a QoS 1
 * PUBACK only when handleMessage calls back, so the callback waits exactly for the durable append
 * (and for the high-water gate): an unacknowledged message stays with the broker and is redelivered.
 */
export class Intake {
  private client: MqttClient | undefined;

  constructor(
    private readonly config: IngestConfig,
    private readonly deps: IntakeDeps,
  ) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  start(): void {
    const { mqtt: m } = this.config;
    const options: IClientOptions = {
      clientId: m.clientId,
      protocolVersion: m.version,
      // A persistent session: the broker queues QoS 1 messages while we are away.
      clean: false,
      ...(m.version === 5 ? { properties: { sessionExpiryInterval: SESSION_EXPIRY_SECONDS } } : {}),
      username: m.username,
      password: m.password,
      reconnectPeriod: 1000,
      keepalive: 30,
      // Resubscribing ourselves on every connect, below, covers Mosquitto 2.0.11's shared
      // subscriptions of durable clients, which it does not restore.
      resubscribe: false,
      ...(m.caFile ? { ca: readFileSync(m.caFile) } : {}),
      ...(m.certFile ? { cert: readFileSync(m.certFile) } : {}),
      ...(m.keyFile ? { key: readFileSync(m.keyFile) } : {}),
    };
    const client = mqtt.connect(m.url, options);
    this.client = client;
    // Set before the connection opens: queued messages arrive right after CONNACK.
    client.handleMessage = (packet, done) => {
      this.handle(packet).then(
        () => done(),
        (error: unknown) => done(error as Error),
      );
    };
    const filter = m.shareGroup ? `$share/${m.shareGroup}/${SUBSCRIPTION}` : SUBSCRIPTION;
    client.on("connect", (connack) => {
      this.deps.log.info(
        { event: "broker_connected", sessionPresent: connack.sessionPresent },
        "connected to the broker",
      );
      client.subscribe(filter, { qos: 1 }, (error) => {
        if (error) this.deps.log.error({ event: "subscribe_failed", err: error.message }, "subscribe failed");
      });
    });
    client.on("error", (error) =>
      this.deps.log.error({ event: "broker_error", err: error.message }, "MQTT error"),
    );
    client.on("offline", () => this.deps.log.warn({ event: "broker_offline" }, "broker unreachable"));
  }

  private async handle(packet: IPublishPacket): Promise<void> {
    const { metrics, log } = this.deps;
    metrics.received.inc();
    await this.deps.gate();
    const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
    const decoded = decodeMessage(packet.topic, payload);
    let document: IndexedDocument;
    if (decoded.ok) document = sampleDocument(decoded, this.config.namespace);
    else {
      metrics.invalid.inc({ reason: decoded.reason.split(":")[0] ?? "invalid" });
      log.warn(
        { event: "message_invalid", topic: packet.topic, reason: decoded.reason },
        "invalid message; dead-lettering it",
      );
      document = deadLetterDocument(
        packet.topic,
        payload.toString("utf8"),
        decoded.reason,
        this.config.namespace,
        decoded.host,
      );
    }
    // Hold the acknowledgement until the message is durable; while Redis is away, the broker keeps it.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.deps.store(document);
        break;
      } catch (error) {
        if (attempt === 0)
          log.error(
            { event: "stage_failed", err: (error as Error).message },
            "cannot store in Redis; holding the acknowledgement",
          );
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
      }
    }
    metrics.acked.inc();
  }

  async stop(): Promise<void> {
    await this.client?.endAsync().catch(() => undefined);
  }
}
