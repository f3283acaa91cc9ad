import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { Logger } from "pino";
import { SUBSCRIPTION, decodeMessage } from "@cluster-telemetry/contract";
import { mqttClientOptions } from "@cluster-telemetry/contract/config";
import type { LiveConfig } from "../config/live-config.ts";
import type { Fleet } from "../state/fleet.ts";
import type { LiveMetrics } from "../ops/metrics.ts";

/**
 * The broker side: one subscription to every host's samples and retained statuses, QoS 0 and a
 * clean session. A live view wants the present, not a replay: QoS 0 spares the broker and this
 * process a PUBACK per message, and after a reconnect the retained statuses (re-sent with every
 * new subscription) and the next interval's samples restore the picture within seconds; what was
 * missed meanwhile is the history's job. Every message is checked against the contract first.
 */
export class Subscriber {
  private client: MqttClient | undefined;

  constructor(
    private readonly config: LiveConfig["mqtt"],
    private readonly fleet: Fleet,
    private readonly metrics: LiveMetrics,
    private readonly log: Logger,
  ) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  start(): void {
    const m = this.config;
    const options: IClientOptions = {
      ...mqttClientOptions({ ...m, protocolVersion: m.version }),
      clean: true,
      reconnectPeriod: 1000,
      keepalive: 30,
      resubscribe: false,
    };
    const client = mqtt.connect(m.url, options);
    this.client = client;
    client.on("message", (topic, payload) => this.receive(topic, payload));
    client.on("connect", () => {
      this.metrics.brokerConnected.set(1);
      this.log.info({ event: "broker_connected", broker: redact(m.url) }, "connected to the broker");
      client.subscribe(SUBSCRIPTION, { qos: 0 }, (error, granted) => {
        const refused = granted?.some((g) => g.qos > 2);
        if (error || refused)
          this.log.error(
            {
              event: "subscribe_failed",
              broker: redact(m.url),
              err: error?.message ?? "refused by the broker (ACL?)",
            },
            `could not subscribe to ${SUBSCRIPTION}`,
          );
      });
    });
    client.on("close", () => {
      this.metrics.brokerConnected.set(0);
    });
    client.on("offline", () =>
      this.log.warn(
        { event: "broker_offline", broker: redact(m.url) },
        "broker unreachable; reconnecting every second",
      ),
    );
    client.on("error", (error) =>
      this.log.error(
        { event: "broker_error", broker: redact(m.url), err: error.message },
        "broker connection error",
      ),
    );
  }

  private receive(topic: string, payload: Buffer): void {
    this.metrics.received.inc();
    const decoded = decodeMessage(topic, payload);
    const now = Date.now();
    if (!decoded.ok) {
      this.metrics.invalid.inc();
      this.log.debug({ event: "message_invalid", topic, reason: decoded.reason }, "message ignored");
      return;
    }
    if (decoded.kind === "status") this.fleet.applyStatus(decoded.host, decoded.message, now);
    else this.fleet.applySample(decoded.host, decoded.kind, decoded.message, decoded.text, now);
  }

  async stop(): Promise<void> {
    await this.client?.endAsync(true);
  }
}

/** A URL as it may appear in a log: without its password. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "redacted";
    return parsed.toString();
  } catch {
    return "(unparseable url)";
  }
}
