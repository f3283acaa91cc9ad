import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from "mqtt";
import type { Logger } from "pino";
import { RETIRED_SUBSCRIPTION, SUBSCRIPTION, decodeMessage } from "@cluster-telemetry/contract";
import { mqttClientOptions } from "@cluster-telemetry/contract/config";
import type { IngestConfig } from "../config/ingest-config.ts";
import { deadLetterDocument, sampleDocuments, type IndexedDocument } from "../documents.ts";
import type { IngestMetrics } from "../ops/metrics.ts";
import { isConnectionError, type Backends } from "../ops/backends.ts";
import { HeldAcks, type HeldAck } from "./held-acks.ts";

/** A week: the broker keeps an offline ingest's messages through a long outage. */
const SESSION_EXPIRY_SECONDS = 7 * 24 * 3600;

export interface IntakeDeps {
  /** Durably stores documents, in order; resolves once Redis has them. */
  store: (documents: IndexedDocument[]) => Promise<void>;
  /** True while the queue is above the high-water mark. */
  paused: () => boolean;
  /** Resolves when the queue is below the high-water mark. */
  gate: () => Promise<void>;
  metrics: IngestMetrics;
  log: Logger;
  /** Told when the broker goes away and comes back; it names the broker in the log. */
  backends?: Backends;
}

/**
 * Most messages the broker may have outstanding with us (MQTT 5 Receive Maximum): what is held
 * for the next Redis write, and so the bound on this process's memory while Redis is slow.
 */
const RECEIVE_MAXIMUM = 1000;

interface Held {
  documents: IndexedDocument[];
  ack: HeldAck | undefined;
  /** PUBACKs belong to the connection that received the message; after a reconnect the broker resends. */
  connection: number;
}

/**
 * A batch this large is written without waiting out the linger: half the Receive Maximum, so the
 * broker always has room to send while the write is on its way.
 */
const LINGER_LIMIT = RECEIVE_MAXIMUM / 2;

/**
 * The MQTT side. Every message is validated as it arrives and joins the batch for the next Redis
 * write; its PUBACK is held (see HeldAcks) and sent only once that write has returned, so an
 * unacknowledged message stays with the broker and is redelivered. One write at a time, in arrival
 * order, so PUBACKs go out in the order the messages came (MQTT 4.6.0-2).
 *
 * A batch is written once its first message has waited the linger (a few ms) or it is large. The
 * cost of a write is mostly fixed (a system call into the loopback or network stack, Redis's read and
 * reply, the PUBACKs' own write and the broker's read of them), so at moderate rates writing as soon
 * as a message arrives spent most of the ingest's CPU on writes of one or two messages.
 */
export class Intake {
  private client: MqttClient | undefined;
  private batch: Held[] = [];
  private writing = false;
  /** When the batch's first message arrived (performance.now()). */
  private batchSince = 0;
  /** The next write, when arranged. */
  private scheduled: { immediate: boolean; cancel: () => void } | undefined;
  private stopping = false;
  /** The write in progress, if any: stop() lets it finish so its PUBACKs go out. */
  private written: Promise<void> = Promise.resolve();
  private connection = 0;

  constructor(
    private readonly config: IngestConfig,
    private readonly deps: IntakeDeps,
  ) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  start(): void {
    const c = this.config;
    const options: IClientOptions = {
      ...mqttClientOptions({
        clientId: c.mqttClientId,
        protocolVersion: c.mqttVersion,
        username: c.mqttUsername,
        password: c.mqttPassword,
        caFile: c.mqttCaFile,
        certFile: c.mqttCertFile,
        keyFile: c.mqttKeyFile,
      }),
      // A persistent session: the broker queues QoS 1 messages while we are away.
      clean: false,
      ...(c.mqttVersion === 5
        ? { properties: { sessionExpiryInterval: SESSION_EXPIRY_SECONDS, receiveMaximum: RECEIVE_MAXIMUM } }
        : {}),
      reconnectPeriod: 1000,
      keepalive: 30,
      // Resubscribing ourselves on every connect, below, covers Mosquitto 2.0.11's shared
      // subscriptions of durable clients, which it does not restore.
      resubscribe: false,
    };
    const client = mqtt.connect(c.mqttUrl, options);
    this.client = client;
    const acks = new HeldAcks(client);
    // Set before the connection opens: queued messages arrive right after CONNACK.
    client.handleMessage = (packet, done) => {
      // Stopping: no callback, no PUBACK; the broker keeps the message for the next session.
      if (this.stopping) return;
      if (!this.deps.paused()) {
        this.accept(packet, acks, done);
        return;
      }
      // Above the high-water mark: not calling back keeps this and every later message at the broker.
      this.deps.gate().then(
        () => {
          if (!this.stopping) this.accept(packet, acks, done);
        },
        // Not acknowledged: the broker keeps the message and sends it again on the next session.
        (error: Error) =>
          this.deps.log.error(
            { event: "gate_failed", err: error.message },
            "waiting for the queue to drain failed; the message stays with the broker",
          ),
      );
    };
    let lastError: Error | undefined;
    // The retired version too, for one release: an agent not yet upgraded gets dead letters that
    // say so (retired_version), where without the subscription its samples would vanish unseen.
    const filters = [SUBSCRIPTION, RETIRED_SUBSCRIPTION].map((f) =>
      c.shareGroup ? `$share/${c.shareGroup}/${f}` : f,
    );
    client.on("connect", (connack) => {
      lastError = undefined;
      this.deps.backends?.reachable("broker");
      this.deps.log.info(
        { event: "broker_connected", sessionPresent: connack.sessionPresent },
        "connected to the broker",
      );
      // Retained status messages come with a new subscription only (MQTT 5 Retain Handling 1): on
      // reconnecting to its session the ingest would otherwise take every host's status again.
      // Retain As Published: a sample a node published retained is seen as such, and refused.
      const options = c.mqttVersion === 5 ? { qos: 1 as const, rh: 1, rap: true } : { qos: 1 as const };
      client.subscribe(filters, options, (error) => {
        if (error) this.deps.log.error({ event: "subscribe_failed", err: error.message }, "subscribe failed");
      });
    });
    client.on("close", () => (this.connection += 1));
    client.on("error", (error) => {
      lastError = error;
      // A refused or dropped connection is the outage the "offline" line reports, once.
      if (!this.deps.backends || !isConnectionError(error))
        this.deps.log.error({ event: "broker_error", err: error.message }, "MQTT error");
    });
    client.on("offline", () => {
      if (this.deps.backends)
        this.deps.backends.unreachable(
          "broker",
          lastError ?? "connection closed",
          "reconnecting every second",
        );
      else this.deps.log.warn({ event: "broker_offline" }, "broker unreachable");
    });
  }

  private accept(packet: IPublishPacket, acks: HeldAcks, done: (error?: Error) => void): void {
    this.deps.metrics.received.inc();
    const documents = this.toDocuments(packet);
    const ack = acks.hold(() => done());
    if (this.batch.length === 0) this.batchSince = performance.now();
    this.batch.push({ documents, ack, connection: this.connection });
    this.schedule();
  }

  /** Arranges the next write: after the linger, or at once (after the packets already read) when due. */
  private schedule(): void {
    if (this.writing || this.batch.length === 0 || this.scheduled?.immediate) return;
    const due = this.stopping || this.batch.length >= LINGER_LIMIT;
    // The linger's timer is running and nothing makes the write due sooner: the common case, per message.
    if (this.scheduled && !due) return;
    this.scheduled?.cancel();
    const wait = due ? 0 : this.config.stageLingerMs - (performance.now() - this.batchSince);
    const run = () => {
      this.scheduled = undefined;
      this.written = this.write();
    };
    if (wait > 0) {
      const timer = setTimeout(run, wait);
      this.scheduled = { immediate: false, cancel: () => clearTimeout(timer) };
    } else {
      const immediate = setImmediate(run);
      this.scheduled = { immediate: true, cancel: () => clearImmediate(immediate) };
    }
  }

  /** A message's documents: one, or one per entity of a per-entity sample; a dead letter when invalid. */
  private toDocuments(packet: IPublishPacket): IndexedDocument[] {
    const { metrics, log } = this.deps;
    const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
    const decoded = decodeMessage(packet.topic, payload, { retained: packet.retain });
    if (decoded.ok) return sampleDocuments(decoded, this.config.namespace);
    const text = payload.toString("utf8");
    metrics.invalid.inc({ reason: decoded.code });
    log.warn(
      // A topic may be 64 KiB: the log keeps its start, the dead letter what its mapping holds.
      {
        event: "message_invalid",
        topic: packet.topic.slice(0, 256),
        code: decoded.code,
        reason: decoded.reason,
      },
      "invalid message; dead-lettering it",
    );
    return [
      deadLetterDocument(
        packet.topic,
        text,
        decoded.reason,
        this.config.namespace,
        decoded.host,
        decoded.code,
      ),
    ];
  }

  /** One Redis write for the whole batch, then its PUBACKs; the next batch is scheduled after it. */
  private async write(): Promise<void> {
    if (this.writing || this.batch.length === 0) return;
    this.writing = true;
    const { metrics, log } = this.deps;
    const held = this.batch;
    this.batch = [];
    // Hold the acknowledgements until the messages are durable; while Redis is away, the broker keeps them.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.deps.store(held.flatMap((h) => h.documents));
        break;
      } catch (error) {
        if (attempt === 0)
          log.error(
            { event: "stage_failed", err: (error as Error).message },
            "cannot store in Redis; holding the acknowledgements",
          );
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
      }
    }
    for (const h of held) if (h.connection === this.connection) h.ack?.();
    metrics.acked.inc(held.length);
    this.writing = false;
    this.schedule();
  }

  /**
   * Takes no more messages, lets the batch in hand reach Redis and be acknowledged, then disconnects.
   * Messages not acknowledged by then (held at the gate, or arriving now) stay with the broker.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    // The batch in hand goes now, not after its linger; each write schedules the next at once.
    this.schedule();
    while (this.writing || this.scheduled) {
      await new Promise((r) => setImmediate(r));
      await this.written;
    }
    await new Promise((r) => setImmediate(r)); // the PUBACKs leave the corked socket
    // Forced: a gentle end waits on the messages we chose not to acknowledge, which never complete.
    await this.client
      ?.endAsync(true)
      .catch((error: Error) =>
        this.deps.log.warn(
          { event: "broker_disconnect_failed", err: error.message },
          "could not close the broker connection cleanly",
        ),
      );
  }
}
