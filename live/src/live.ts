// telemetry-live, wired:
//
//   MQTT telemetry/v2/+/+ (QoS 0, clean session, retained statuses)
//     │ decodeMessage (the contract) → Fleet: latest state + a ring per host and column
//     ▼
//   every push interval: refresh (silent, hot, urgency order, summary)
//     │ per browser: its window of the ordered, filtered fleet; only what changed since its last update
//     ▼
//   Server-Sent Events ──▶ the page (virtualised rows, sparklines, detail charts with uPlot)
//
//   At start, with Elasticsearch configured: the last window of history fills the rings first.
import type { Server } from "node:http";
import type { Logger } from "pino";
import { Subscriber } from "./broker/subscriber.ts";
import type { LiveConfig } from "./config/live-config.ts";
import { loadHistory } from "./history/history.ts";
import { createAuthenticator } from "./http/auth.ts";
import { portOf, startHttpServer } from "./http/server.ts";
import { createLiveMetrics, type LiveMetrics } from "./ops/metrics.ts";
import { PushHub } from "./push/push-hub.ts";
import { Fleet } from "./state/fleet.ts";

export interface RunningLive {
  /** The address to open, without any secret. */
  url: string;
  port: number;
  metrics: LiveMetrics;
  stop: () => Promise<void>;
}

export async function startLive(config: LiveConfig, log: Logger): Promise<RunningLive> {
  // The rings and the page count whole minutes; the config checked the window is one.
  const windowMinutes = config.windowMs / 60_000;
  const fleet: Fleet = new Fleet({
    maxHosts: config.maxHosts,
    windowMinutes,
    hotCelsius: config.hotCelsius,
    onLimit: (host, refused) =>
      log.warn(
        { event: "host_limit_reached", maxHosts: config.maxHosts, host, refused },
        `host limit of ${config.maxHosts} reached: samples of new hosts (such as ${host}) are dropped; raise --max-hosts`,
      ),
  });
  const metrics = createLiveMetrics(() => fleet.hosts.size);
  const subscriber = new Subscriber(config.mqtt, fleet, metrics, log);
  const hub = new PushHub(
    fleet,
    {
      windowMinutes,
      hotCelsius: config.hotCelsius,
      brokerConnected: () => subscriber.connected,
    },
    metrics,
    log,
  );
  const secure = Boolean(config.http.tlsCertFile);
  const cookieName = `telemetry_live_${config.http.port}`;
  const auth = createAuthenticator(config.auth, cookieName, secure);
  const server: Server = await startHttpServer(config.http, {
    fleet,
    hub,
    auth,
    metrics,
    log,
    windowMinutes,
  });
  const port = portOf(server);
  const host = config.http.host.includes(":") ? `[${config.http.host}]` : config.http.host;
  const url = `${secure ? "https" : "http"}://${host}:${port}/`;
  log.info(
    {
      event: "live_listening",
      url,
      auth: config.auth.kind,
      ...(config.auth.kind === "token" ? { tokenFile: config.auth.file } : {}),
    },
    config.auth.kind === "token"
      ? `open ${url}?token=<the token in ${config.auth.file}>`
      : `open ${url} and sign in as ${config.auth.username}`,
  );

  // The history first, so that live samples append to it in order.
  if (config.elasticsearch) await loadHistory(config.elasticsearch, fleet, windowMinutes, log);
  subscriber.start();

  let refused = 0;
  const tick = setInterval(() => {
    const now = Date.now();
    fleet.refresh(now);
    metrics.refused.inc(fleet.refused - refused);
    refused = fleet.refused;
    hub.push(now);
  }, config.pushIntervalMs);

  return {
    url,
    port,
    metrics,
    stop: async () => {
      clearInterval(tick);
      hub.close();
      await subscriber.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
