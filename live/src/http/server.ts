import { readFileSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { LiveConfig } from "../config/live-config.ts";
import type { LiveMetrics } from "../ops/metrics.ts";
import type { Fleet } from "../state/fleet.ts";
import { MAX_WINDOW, type View } from "../push/browser-session.ts";
import type { PushHub } from "../push/push-hub.ts";
import { wireRow } from "../push/wire.ts";
import { latestOf } from "../state/host-state.ts";
import { loadAssets } from "./assets.ts";
import type { Authenticator } from "./auth.ts";

export interface HttpDeps {
  fleet: Fleet;
  hub: PushHub;
  auth: Authenticator;
  metrics: LiveMetrics;
  log: Logger;
  windowMinutes: number;
}

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  // Everything the page loads comes from here: no CDN, no inline script.
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
};

/**
 *   GET  /               the page (and its assets)       GET /events        the update stream (SSE)
 *   POST /api/view       the browser's window             GET /api/hosts/:h  one host, full series
 *   GET  /healthz        alive, no auth                   GET /metrics       Prometheus, with auth
 */
export async function startHttpServer(config: LiveConfig["http"], deps: HttpDeps): Promise<Server> {
  const assets = loadAssets();
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const route = url.pathname;
    if (route === "/healthz" && request.method === "GET") {
      response.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    const auth = deps.auth.check(request);
    if (!auth.ok) {
      response
        .writeHead(401, {
          "content-type": "text/plain; charset=utf-8",
          ...(auth.challenge ? { "www-authenticate": auth.challenge } : {}),
        })
        .end("telemetry-live: sign in with the URL that carries the token (see the token file)\n");
      return;
    }
    if (auth.setCookie && request.method === "GET" && route === "/") {
      // Take the token out of the address bar (and history) once the cookie holds it.
      response
        .writeHead(303, { location: "/", "set-cookie": auth.setCookie, "cache-control": "no-store" })
        .end();
      return;
    }
    const asset = request.method === "GET" ? assets.get(route) : undefined;
    if (asset) {
      response
        .writeHead(200, { "content-type": asset.type, "cache-control": "no-cache", ...SECURITY_HEADERS })
        .end(asset.body);
    } else if (route === "/events" && request.method === "GET") {
      deps.hub.open(request, response);
    } else if (route === "/api/view" && request.method === "POST") {
      readJson(request, 4096).then(
        (body) => {
          const view = parseView(body);
          if (!view.ok) return json(response, 400, { error: view.reason });
          const update = deps.hub.setView(view.id, view.view);
          if (!update) return json(response, 404, { error: `no update stream with id ${view.id}` });
          json(response, 200, update);
        },
        (error: Error) => json(response, 400, { error: error.message }),
      );
    } else if (route.startsWith("/api/hosts/") && request.method === "GET") {
      let name: string;
      try {
        name = decodeURIComponent(route.slice("/api/hosts/".length));
      } catch {
        return json(response, 400, { error: "the host name in the path is not valid percent-encoding" });
      }
      const host = deps.fleet.hosts.get(name);
      if (!host) return json(response, 404, { error: `no host named ${name}` });
      const since = Math.floor(Date.now() / 1000) - deps.windowMinutes * 60;
      json(response, 200, {
        now: Date.now(),
        row: wireRow(host, "full", since),
        latest: latestOf(host),
        sensors: host.sensors,
        architecture: host.architecture ?? null,
      });
    } else if (route === "/metrics" && request.method === "GET") {
      deps.metrics.registry.metrics().then(
        (text) => response.writeHead(200, { "content-type": deps.metrics.registry.contentType }).end(text),
        (error: Error) => response.writeHead(500).end(error.message),
      );
    } else {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  };
  const server =
    config.tlsCertFile && config.tlsKeyFile
      ? createHttpsServer(
          { cert: readFileSync(config.tlsCertFile), key: readFileSync(config.tlsKeyFile) },
          handler,
        )
      : createHttpServer(handler);
  // An update stream stays open for as long as the page does.
  server.requestTimeout = 0;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) =>
      reject(new Error(`cannot listen on ${config.host}:${config.port}: ${error.message}`, { cause: error })),
    );
    server.listen(config.port, config.host, resolve);
  });
  return server;
}

export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response
    .writeHead(status, { "content-type": "application/json", "cache-control": "no-store" })
    .end(JSON.stringify(body));
}

function readJson(request: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let text = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      text += chunk;
      if (text.length > limit) {
        reject(new Error(`request body over ${limit} bytes`));
        request.destroy();
      }
    });
    request.on("end", () => {
      try {
        resolve(JSON.parse(text));
      } catch (error) {
        reject(new Error(`request body is not JSON: ${(error as Error).message}`, { cause: error }));
      }
    });
    request.on("error", reject);
  });
}

type ParsedView = { ok: true; id: string; view: View } | { ok: false; reason: string };

function parseView(body: unknown): ParsedView {
  if (typeof body !== "object" || body === null) return { ok: false, reason: "view must be a JSON object" };
  const b = body as Record<string, unknown>;
  const whole = (v: unknown, max: number) =>
    typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max;
  if (typeof b.id !== "string") return { ok: false, reason: "id must be the stream's id" };
  if (typeof b.filter !== "string" || b.filter.length > 256)
    return { ok: false, reason: "filter must be a string of at most 256 characters" };
  if (!whole(b.offset, 1e7)) return { ok: false, reason: "offset must be a whole number ≥ 0" };
  if (!whole(b.count, MAX_WINDOW))
    return { ok: false, reason: `count must be a whole number from 0 to ${MAX_WINDOW}` };
  if (b.detail !== undefined && b.detail !== null && typeof b.detail !== "string")
    return { ok: false, reason: "detail must be a host name or null" };
  return {
    ok: true,
    id: b.id,
    view: {
      filter: b.filter,
      offset: b.offset as number,
      count: b.count as number,
      detail: (b.detail as string | null) ?? undefined,
    },
  };
}
