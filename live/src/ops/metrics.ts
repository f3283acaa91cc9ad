import { Counter, Gauge, Registry } from "prom-client";

/** Every metric telemetry-live exports at /metrics, named in one place. */
export function createLiveMetrics(hostsKnown: () => number) {
  const registry = new Registry();
  const counter = (name: string, help: string) =>
    new Counter({ name: `telemetry_live_${name}`, help, registers: [registry] });
  const gauge = (name: string, help: string) =>
    new Gauge({ name: `telemetry_live_${name}`, help, registers: [registry] });
  return {
    registry,
    received: counter("messages_received_total", "MQTT messages received"),
    invalid: counter(
      "messages_invalid_total",
      "Messages that failed the contract's validation and were ignored",
    ),
    refused: counter("hosts_refused_total", "Messages dropped because the host limit was reached"),
    hosts: new Gauge({
      name: "telemetry_live_hosts_known",
      help: "Hosts held in memory",
      registers: [registry],
      // Counted when scraped, so the figure is never a push interval behind.
      collect() {
        this.set(hostsKnown());
      },
    }),
    browsers: gauge("browsers_connected", "Browsers with an open update stream"),
    updates: counter("updates_sent_total", "Updates pushed to browsers"),
    updateBytes: counter("update_bytes_sent_total", "Bytes of updates pushed to browsers"),
    brokerConnected: gauge("broker_connected", "1 while connected to the broker"),
  };
}

export type LiveMetrics = ReturnType<typeof createLiveMetrics>;
